//! The front door: one function per subcommand, each in its own file, and this dispatcher.
//! The usage rules are [`crate::cli`]'s, checked before anything is read; what the flags mean
//! for a run is [`crate::config`]'s; every outcome, error included, leaves as an
//! [`Exit`](crate::exit::Exit), whose code is computed, never chosen here.

mod bundle;
mod catalog;
mod chain;
mod check;
mod explain;
mod explain_chain;
mod feed;
mod gate;
mod output;
mod runtime;
mod size;

use crate::cli::{Cli, Command, FeedCommand};
use crate::error::Error;
use crate::exit::Exit;

/// Runs the command and returns the exit code it earned.
pub fn run(cli: Cli) -> Result<Exit, Error> {
    cli.validate()?;
    match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Explain(args) => explain::run(&args),
        Command::Gate(args) => gate::run(&args),
        Command::Bundle(args) => bundle::run(&args),
        Command::Chain(args) => chain::run(&args),
        Command::Size(args) => size::run(&args),
        Command::Feed { action } => match action {
            FeedCommand::Update(args) => feed::update(&args),
            FeedCommand::Show(args) => feed::show(&args),
        },
        Command::Causes { format } => catalog::causes(format),
        Command::Profiles => catalog::profiles(),
        Command::Schema => catalog::schema(),
        Command::Completions { shell } => catalog::completions(shell),
        Command::Man { command, list } => catalog::man(&command, list),
    }
}
