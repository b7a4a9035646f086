//! The `zpa-preflight` binary: parse the command line, run the pipeline, exit with its code.

use std::process::ExitCode;

use clap::Parser;
use zpa_preflight::{app, cli::Cli, exit::Exit};

fn main() -> ExitCode {
    // clap exits 2 on a usage error and 0 for --help and --version.
    let cli = Cli::parse();
    // A panic is a failure of the tool (1), never to be mistaken for "blocked" (3).
    match std::panic::catch_unwind(|| app::run(cli)) {
        Ok(Ok(exit)) => ExitCode::from(exit.code()),
        Ok(Err(error)) => {
            // A reader that went away (`| head`) is not worth a message.
            if !error.is_broken_pipe() {
                // One line, printable: it may quote a file name or a peer's text.
                let line = format!("zpa-preflight: error: {error}");
                eprintln!("{}", zpa_preflight::render::printable(&line));
            }
            ExitCode::from(Exit::from_error(&error).code())
        }
        Err(_) => ExitCode::from(Exit::ToolFailed.code()),
    }
}
