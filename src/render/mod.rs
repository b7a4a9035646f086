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
    /// Resolves the choice: `NO_COLOR` (any non-empty value, per no-color.org), a
    /// non-terminal and `TERM=dumb` (a terminal that cannot show colour) all turn `auto` off.
    pub fn enabled(
        self,
        is_terminal: bool,
        no_color: Option<&std::ffi::OsStr>,
        term: Option<&std::ffi::OsStr>,
    ) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                is_terminal
                    && no_color.is_none_or(|v| v.is_empty())
                    && term.is_none_or(|t| t != "dumb")
            }
        }
    }
}

/// `text` safe to print on a terminal: every control character (C0, DEL, C1) and every
/// bidirectional override is shown as an escape (`\u{1b}`), so hostile text from a report, a
/// profile, a file name or a peer can neither drive the terminal nor forge lines.
pub fn printable(text: &str) -> std::borrow::Cow<'_, str> {
    let hostile =
        |c: char| c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}');
    if !text.chars().any(hostile) {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hostile(c) {
            out.push_str(&c.escape_unicode().to_string());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// `value` with every string in it made [`printable`]: what the text renderers are given, so
/// no field of a report (a saved one is anybody's text) reaches a terminal raw.
pub fn printable_value<T: serde::Serialize + serde::de::DeserializeOwned + Clone>(value: &T) -> T {
    fn walk(value: &mut serde_json::Value) {
        match value {
            serde_json::Value::String(s) => {
                if let std::borrow::Cow::Owned(clean) = printable(s) {
                    *s = clean;
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            serde_json::Value::Object(map) => map.values_mut().for_each(walk),
            _ => {}
        }
    }
    let Ok(mut json) = serde_json::to_value(value) else {
        return value.clone();
    };
    walk(&mut json);
    serde_json::from_value(json).unwrap_or_else(|_| value.clone())
}

/// Prose for markdown: [`printable`], with the metacharacters that make markdown act escaped,
/// so that a hostile value can neither open a link or an image, nor write raw HTML, nor
/// break a table, nor turn a span into emphasis or strike-through. Backticks stay: the rules'
/// own prose marks commands with them, and a code span is inert whatever it holds;
/// parentheses and `!` mean nothing without a `[` `]`, and `_` inside a word is no emphasis.
pub fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 8);
    for c in printable(text).chars() {
        if matches!(c, '\\' | '*' | '[' | ']' | '<' | '>' | '|' | '~') {
            out.push('\\');
        }
        if c == '\n' {
            out.push(' ');
        } else {
            out.push(c);
        }
    }
    out
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
            (ColorChoice::Auto, true, None, None, true),
            (ColorChoice::Auto, false, None, None, false),
            (ColorChoice::Auto, true, Some("1"), None, false),
            (ColorChoice::Auto, true, Some(""), None, true),
            (ColorChoice::Auto, true, None, Some("dumb"), false),
            (ColorChoice::Auto, true, None, Some("xterm-256color"), true),
            (ColorChoice::Always, false, Some("1"), Some("dumb"), true),
            (ColorChoice::Never, true, None, None, false),
        ];
        for (choice, tty, no_color, term, expected) in cases {
            assert_eq!(
                choice.enabled(tty, no_color.map(OsStr::new), term.map(OsStr::new)),
                expected,
                "{choice:?} tty={tty} NO_COLOR={no_color:?} TERM={term:?}"
            );
        }
    }

    #[test]
    fn hostile_text_is_escaped() {
        assert_eq!(printable("plain · text"), "plain · text");
        assert_eq!(printable("a\u{1b}[2Jb"), "a\\u{1b}[2Jb");
        assert_eq!(printable("line\nforged"), "line\\u{a}forged");
        assert_eq!(printable("\u{202e}evil"), "\\u{202e}evil");
        assert_eq!(printable("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(
            markdown_text("[click](http://x) `code` *b* | <img>"),
            "\\[click\\](http://x) `code` \\*b\\* \\| \\<img\\>"
        );
    }
}
