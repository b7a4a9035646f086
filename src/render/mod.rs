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

/// The one escaping of hostile text, for every renderer (it lives in a leaf, [`crate::text`],
/// so that the certificate summaries and log excerpts the probes record use it too).
pub use crate::text::printable;

/// `value` with every string in it made [`printable`]: what the text renderers are given, so
/// no field of a report (a saved one is anybody's text) reaches a terminal raw.
///
/// Almost every value is clean, and rebuilding one through `serde_json::Value` cost about
/// 2.6 KiB per probe (more than the probes themselves at 2,000 targets): it is first
/// serialized into nothing, watched string by string, and borrowed as it is when clean.
pub fn printable_value<T: serde::Serialize + serde::de::DeserializeOwned + Clone>(
    value: &T,
) -> std::borrow::Cow<'_, T> {
    if !holds_hostile_text(value) {
        return std::borrow::Cow::Borrowed(value);
    }
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
        return std::borrow::Cow::Borrowed(value);
    };
    walk(&mut json);
    std::borrow::Cow::Owned(serde_json::from_value(json).unwrap_or_else(|_| value.clone()))
}

/// Whether a string `value` serializes (a field or a key) holds a character [`printable`]
/// escapes. serde_json hands its formatter each string as raw runs and escapes: a run is
/// checked as it is; an escape other than `\"`, `\\` or `\/` is a control character.
fn holds_hostile_text<T: serde::Serialize>(value: &T) -> bool {
    use serde_json::ser::{CharEscape, Formatter};
    struct Watch<'a>(&'a std::cell::Cell<bool>);
    impl Formatter for Watch<'_> {
        fn write_string_fragment<W: ?Sized + std::io::Write>(
            &mut self,
            _: &mut W,
            fragment: &str,
        ) -> std::io::Result<()> {
            if matches!(printable(fragment), std::borrow::Cow::Owned(_)) {
                self.0.set(true);
            }
            Ok(())
        }
        fn write_char_escape<W: ?Sized + std::io::Write>(
            &mut self,
            _: &mut W,
            escape: CharEscape,
        ) -> std::io::Result<()> {
            if !matches!(
                escape,
                CharEscape::Quote | CharEscape::ReverseSolidus | CharEscape::Solidus
            ) {
                self.0.set(true);
            }
            Ok(())
        }
    }
    let hostile = std::cell::Cell::new(false);
    let mut watcher = serde_json::Serializer::with_formatter(std::io::sink(), Watch(&hostile));
    // A value serde cannot serialize is judged by the rebuild, which keeps it as it is.
    value.serialize(&mut watcher).is_err() || hostile.get()
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

    #[test]
    fn a_clean_value_is_borrowed_and_a_hostile_one_cleaned() {
        use std::borrow::Cow;
        let clean = vec![
            "plain".to_string(),
            "a \\d+ pattern, \"quoted\", a/b".into(),
            "é ü → 中".into(),
        ];
        assert!(matches!(printable_value(&clean), Cow::Borrowed(_)));
        for bad in [
            "a\nb",
            "\u{1b}[31m",
            "x\u{7f}",
            "\u{85}",
            "\u{202e}evil",
            "\u{2067}",
            "\t",
        ] {
            let value = vec!["ok".to_string(), bad.to_string()];
            let cleaned = printable_value(&value);
            assert!(matches!(cleaned, Cow::Owned(_)), "{bad:?}");
            assert_eq!(cleaned[1], printable(bad), "{bad:?}");
        }
        // A key is text too.
        let keyed: std::collections::BTreeMap<String, u8> = [("\u{1b}]0;x".to_string(), 1)].into();
        assert!(matches!(printable_value(&keyed), Cow::Owned(_)));
    }
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
