//! Text from outside made safe to show: one escaping for everything the tool prints or records
//! from a peer, a file or a report (certificate names, log excerpts, file names, report fields).

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hostile_class_is_escaped_and_the_rest_kept() {
        for (text, shown) in [
            ("plain · text", "plain · text"),
            ("a\u{1b}[2Jb", "a\\u{1b}[2Jb"),
            ("line\nforged", "line\\u{a}forged"),
            ("x\u{7f}", "x\\u{7f}"),
            ("\u{9b}31m", "\\u{9b}31m"),
            ("\u{202e}evil", "\\u{202e}evil"),
            ("\u{2067}isolate", "\\u{2067}isolate"),
        ] {
            assert_eq!(printable(text), shown, "{text:?}");
        }
    }
}
