//! Rendering: the report as text for people, or as JSON for machines. Writes to any `Write`,
//! and colour is a parameter decided once at the edge, so output is testable byte for byte.

pub mod causes;
pub mod chain;
pub mod feed;
pub mod fleet;
pub mod human;
pub mod json;
pub mod markdown;
pub mod progress;
pub mod prometheus;
pub mod size;

use owo_colors::OwoColorize;

/// When to colour human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum ColorChoice {
    /// On a terminal, unless NO_COLOR is set.
    #[default]
    Auto,
    /// Always (even when piped).
    Always,
    /// Never.
    Never,
}

impl ColorChoice {
    /// Resolves the choice: `NO_COLOR` (any non-empty value, per no-color.org) and a
    /// non-terminal both turn `auto` off.
    pub fn enabled(self, is_terminal: bool, no_color: Option<&std::ffi::OsStr>) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => is_terminal && no_color.is_none_or(|v| v.is_empty()),
        }
    }
}

/// The output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Checks, ranked causes and a SUMMARY line.
    #[default]
    Human,
    /// The report document (see the README's JSON contract).
    Json,
    /// A report to paste into a support ticket.
    Markdown,
    /// node_exporter textfile metrics.
    Prometheus,
}

/// Applies colours only when enabled.
#[derive(Debug, Clone, Copy)]
pub struct Painter {
    on: bool,
}

impl Painter {
    /// A painter that colours when `on`.
    pub fn new(on: bool) -> Painter {
        Painter { on }
    }

    fn with(&self, text: &str, style: owo_colors::Style) -> String {
        if self.on {
            text.style(style).to_string()
        } else {
            text.to_string()
        }
    }

    /// Success.
    pub fn good(&self, text: &str) -> String {
        self.with(text, owo_colors::Style::new().green())
    }

    /// Failure.
    pub fn bad(&self, text: &str) -> String {
        self.with(text, owo_colors::Style::new().red().bold())
    }

    /// Warning.
    pub fn warn(&self, text: &str) -> String {
        self.with(text, owo_colors::Style::new().yellow())
    }

    /// Secondary text.
    pub fn dim(&self, text: &str) -> String {
        self.with(text, owo_colors::Style::new().dimmed())
    }

    /// Emphasis.
    pub fn bold(&self, text: &str) -> String {
        self.with(text, owo_colors::Style::new().bold())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn colour_only_on_a_terminal_without_no_color() {
        let cases = [
            (ColorChoice::Auto, true, None, true),
            (ColorChoice::Auto, false, None, false),
            (ColorChoice::Auto, true, Some("1"), false),
            (ColorChoice::Auto, true, Some(""), true),
            (ColorChoice::Always, false, Some("1"), true),
            (ColorChoice::Never, true, None, false),
        ];
        for (choice, tty, no_color, expected) in cases {
            assert_eq!(
                choice.enabled(tty, no_color.map(OsStr::new)),
                expected,
                "{choice:?} tty={tty} NO_COLOR={no_color:?}"
            );
        }
    }
}
