//! The `zpa-preflight` binary: parse the command line, run the pipeline, exit with its code.

use std::process::ExitCode;

use clap::Parser;
use zpa_preflight::{cli::Cli, commands, exit::Exit};

fn main() -> ExitCode {
    // An argument holding a control character or a bidirectional override is no name, path
    // or value anyone means, and clap would echo it raw in its error: one escaped line, exit 2.
    if let Some(bad) = std::env::args_os().skip(1).find(|arg| {
        let text = arg.to_string_lossy();
        zpa_preflight::render::printable(&text) != text
    }) {
        eprintln!(
            "zpa-preflight: error: the argument '{}' holds a control character",
            zpa_preflight::render::printable(&bad.to_string_lossy())
        );
        return ExitCode::from(Exit::Usage.code());
    }
    // clap exits 2 on a usage error and 0 for --help and --version.
    let cli = Cli::parse();
    // A panic is a failure of the tool (1), never to be mistaken for "blocked" (3).
    match std::panic::catch_unwind(|| commands::run(cli)) {
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
