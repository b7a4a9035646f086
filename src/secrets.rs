//! Secrets, removed by their shape from values before anything is serialized.
//!
//! What must never leave the VM: the provision key (`<n>|<cloud>|<token>`), any part of its
//! token a log line echoes (a 401 line carries `nonce(<3|api.private.zscaler.com|…>)`), URL
//! credentials (`http://user:pass@proxy:3128`), `*SECRET*`, `*TOKEN*`, `*PASSWORD*`,
//! `*KEY*` assignments in collected files (`/etc/environment`), the same names as `name: value`
//! fields in a log line (`token: …`, `"password": "…"`), and HTTP credential headers
//! (`Authorization: Basic …` or `Bearer …`, `Proxy-Authorization:`, `Cookie:`, `Set-Cookie:`). Each is recognised by its
//! shape in one string at a time; nothing here ever rewrites serialized JSON, where a short
//! secret like a truncated key `3` would hit every `3` in the document.

/// What replaces a secret.
pub const REMOVED: &str = "[removed by zpa-preflight]";

/// The shortest run of a key's token that is removed where it appears on its own.
const MIN_TOKEN_PREFIX: usize = 8;

/// The secrets known on this VM: the provision key's token, when there is one.
#[derive(Debug, Clone, Default)]
pub struct Secrets {
    token: Option<String>,
}

impl Secrets {
    /// From the provision key's text (`<n>|<cloud>|<token>`, or anything malformed: then
    /// its longest field is taken as the token, if it is long enough to be one).
    pub fn from_key(key: &str) -> Secrets {
        let fields: Vec<&str> = key.trim().split('|').map(str::trim).collect();
        // A well-formed key's token is its last field: never the cloud's name, which may be
        // longer than a short token (found by fuzzing: the cloud was scrubbed, the token kept).
        let token = match fields.as_slice() {
            [_, _, .., last] => Some(*last),
            _ => fields.iter().copied().max_by_key(|part| part.len()),
        }
        .filter(|t| t.len() >= MIN_TOKEN_PREFIX)
        .map(str::to_string);
        Secrets { token }
    }

    /// `text` with every secret removed by shape.
    pub fn scrub(&self, text: &str) -> String {
        let text = nonce(text);
        let text = userinfo(&text);
        let text = assignments(&text);
        let text = fields(&text);
        match &self.token {
            Some(token) => token_runs(&text, token),
            None => text,
        }
    }
}

/// `nonce(…)` fields keep their name, lose their contents.
fn nonce(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("nonce(") {
        out.push_str(&rest[..at + "nonce(".len()]);
        let after = &rest[at + "nonce(".len()..];
        out.push_str(REMOVED);
        // An unclosed field runs to the end of the text.
        rest = after.find(')').map_or("", |end| &after[end..]);
    }
    out.push_str(rest);
    out
}

/// URL credentials: `scheme://user:pass@host` → `scheme://[removed]@host`, and the bare
/// `user:pass@host:port` a connector's proxy file or a `NO_PROXY`-style value holds. A word is
/// cut at whitespace, quotes and `=`; its credentials run to its last `@` (a password may hold
/// `/` or `@`). A bare word needs a `:` before that `@`, so an e-mail address stays.
fn userinfo(text: &str) -> String {
    let is_boundary = |c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '=' | ',' | ';');
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while !rest.is_empty() {
        let word_end = rest.find(is_boundary).unwrap_or(rest.len());
        let (word, after) = rest.split_at(word_end);
        out.push_str(&credentials_removed(word));
        // The boundary itself, then the next word.
        let boundary = after.chars().next().map_or(0, char::len_utf8);
        out.push_str(&after[..boundary]);
        rest = &after[boundary..];
    }
    out
}

/// One word with its credentials, if it has any, removed.
fn credentials_removed(word: &str) -> String {
    let Some(at) = word.rfind('@') else {
        return word.to_string();
    };
    let start = match word.find("://") {
        Some(scheme) if scheme + 3 <= at => scheme + 3,
        Some(_) => return word.to_string(),
        None if word[..at].contains(':') => 0,
        None => return word.to_string(),
    };
    if start == at {
        return word.to_string();
    }
    format!("{}{REMOVED}{}", &word[..start], &word[at..])
}

/// Names that say their value is secret.
const SECRET_NAMES: &[&str] = &["SECRET", "TOKEN", "PASSWORD", "PASSWD", "KEY", "CREDENTIAL"];

/// Whether `name` (an environment-style name) says its value is secret.
fn secret_name(name: &str) -> bool {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return false;
    }
    let upper = name.to_ascii_uppercase();
    SECRET_NAMES.iter().any(|s| upper.contains(s))
}

/// `NAME=value` whose name says secret: the value goes. A line that is an assignment
/// (`/etc/environment`, `export X=…`) loses the rest of the line; an assignment inside a log
/// line loses its word (or its quoted value).
fn assignments(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches('\n');
        let newline = &line[body.len()..];
        let trimmed = body.trim_start().trim_start_matches("export ");
        match trimmed.split_once('=') {
            Some((name, _)) if secret_name(name) => {
                out.push_str(&format!("{name}={REMOVED}{newline}"));
            }
            _ => {
                out.push_str(&inline_assignments(body));
                out.push_str(newline);
            }
        }
    }
    out
}

/// Headers whose whole value is a credential: everything after the name goes, but for the
/// authentication scheme, which says what kind of credential it was.
const CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "set-cookie",
];

/// `name: value` fields: a credential header loses the rest of its line (the scheme kept), a
/// field whose name says secret (`token:`, `"password": "…"`, `api-key:`) loses its value.
fn fields(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        out.push_str(&line_fields(line));
    }
    out
}

fn line_fields(line: &str) -> String {
    let is_name = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some((colon, width)) = separator(rest) {
        // The name before the separator, past spaces and an optional closing quote (JSON as
        // pretty-printers write it, `"password" : …`; YAML; Perl and Ruby's `=>`).
        let before = rest[..colon].trim_end();
        let unquoted = before.strip_suffix(['"', '\'']).unwrap_or(before);
        let start = unquoted
            .char_indices()
            .rev()
            .find(|(_, c)| !is_name(*c))
            .map_or(0, |(i, c)| i + c.len_utf8());
        let name = &unquoted[start..];
        let value = &rest[colon + width..];
        // A field's name stands alone unless a path or a dotted name runs into it:
        // `/opt/zscaler/var/provision_key: no such file` is a path and its error (`msg=token:`,
        // `[auth]token:`, `a;key:` are fields), and `://` is a URL.
        let stands_alone = unquoted[..start]
            .chars()
            .next_back()
            .is_none_or(|c| !matches!(c, '/' | '.' | '\\'));
        if name.is_empty() || value.starts_with("//") || !stands_alone {
            out.push_str(&rest[..colon + width]);
            rest = value;
            continue;
        }
        let lower = name.to_ascii_lowercase();
        if CREDENTIAL_HEADERS.contains(&lower.as_str()) {
            out.push_str(&rest[..colon + width]);
            let body = value.trim_end_matches(['\n', '\r']);
            let ending = &value[body.len()..];
            let lead = &body[..body.len() - body.trim_start().len()];
            let scheme = body.split_whitespace().next().filter(|w| {
                ["basic", "bearer", "digest", "negotiate", "ntlm"]
                    .contains(&w.to_ascii_lowercase().as_str())
            });
            out.push_str(lead);
            if let Some(scheme) = scheme {
                out.push_str(scheme);
                out.push(' ');
            }
            out.push_str(REMOVED);
            out.push_str(ending);
            return out;
        }
        if !secret_name(&lower.replace('-', "_")) {
            out.push_str(&rest[..colon + width]);
            rest = value;
            continue;
        }
        // The value: past spaces, a quoted string or a word (to a space, `,`, `;` or `}`).
        let skipped = value.len() - value.trim_start_matches([' ', '\t']).len();
        let body = &value[skipped..];
        let end = match body.chars().next() {
            Some(quote @ ('"' | '\'')) => quoted_len(body, quote),
            _ => body
                .find(|c: char| c.is_whitespace() || matches!(c, ',' | ';' | '}'))
                .unwrap_or(body.len()),
        };
        out.push_str(&rest[..colon + width]);
        out.push_str(&value[..skipped]);
        if end > 0 {
            out.push_str(REMOVED);
        }
        rest = &body[end..];
    }
    out.push_str(rest);
    out
}

/// The length of the quoted string `text` opens with, both quotes included, a backslash
/// escaping the character after it (`"ab\"cd"` is one string); all of `text` when unclosed.
fn quoted_len(text: &str, quote: char) -> usize {
    let mut escaped = false;
    for (i, c) in text.char_indices().skip(1) {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            c if c == quote => return i + c.len_utf8(),
            _ => {}
        }
    }
    text.len()
}

/// The next `:` or `=>` of `text`: where a `name: value` field's value starts, and the
/// separator's width.
fn separator(text: &str) -> Option<(usize, usize)> {
    // `=>` is looked for only before the next colon: every byte is scanned a bounded number of
    // times, so a long line of colons stays linear (an 8 MiB log tail is scrubbed whole).
    let colon = text.find(':');
    let arrow = text[..colon.unwrap_or(text.len())].find("=>");
    match (arrow, colon) {
        (Some(a), _) => Some((a, 2)),
        (None, Some(c)) => Some((c, 1)),
        (None, None) => None,
    }
}

/// `… NAME=value …` inside a line: each such word's value goes, to the next space or, when
/// it opens with a quote, to the closing quote.
fn inline_assignments(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut rest = line;
    while let Some(eq) = rest.find('=') {
        let name_start = rest[..eq]
            .rfind(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .map_or(0, |i| {
                i + rest[i..].chars().next().map_or(1, char::len_utf8)
            });
        let name = &rest[name_start..eq];
        let value = &rest[eq + 1..];
        if !secret_name(name) {
            out.push_str(&rest[..=eq]);
            rest = value;
            continue;
        }
        let value_end = match value.chars().next() {
            Some(quote @ ('"' | '\'')) => quoted_len(value, quote),
            _ => value.find(char::is_whitespace).unwrap_or(value.len()),
        };
        out.push_str(&rest[..=eq]);
        out.push_str(REMOVED);
        rest = &value[value_end..];
    }
    out.push_str(rest);
    out
}

/// Every run of at least [`MIN_TOKEN_PREFIX`] characters of `token` (a prefix, as a truncated
/// echo shows it, or the whole) removed from `text`.
fn token_runs(text: &str, token: &str) -> String {
    let prefix: String = token.chars().take(MIN_TOKEN_PREFIX).collect();
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(&prefix) {
        out.push_str(&rest[..at]);
        let run = rest[at..]
            .chars()
            .zip(token.chars())
            .take_while(|(a, b)| a == b)
            .map(|(a, _)| a.len_utf8())
            .sum::<usize>();
        out.push_str(REMOVED);
        rest = &rest[at + run..];
    }
    out.push_str(rest);
    out
}

/// Every string inside `value` (keys kept) scrubbed: the report is cleaned as data, then
/// serialized.
pub fn scrub_json(value: &mut serde_json::Value, secrets: &Secrets) {
    match value {
        serde_json::Value::String(s) => *s = secrets.scrub(s),
        serde_json::Value::Array(items) => items.iter_mut().for_each(|v| scrub_json(v, secrets)),
        serde_json::Value::Object(map) => map.values_mut().for_each(|v| scrub_json(v, secrets)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOKEN: &str = "AbCdEfGhIjKlMnOpQrStUvWxYz0123456789";

    /// secret × where it appears → what must be left.
    #[test]
    fn secrets_by_shape() {
        let secrets = Secrets::from_key(&format!("3|api.private.zscaler.com|{TOKEN}"));
        let cases = [
            // Found by the hostile round: a space before the colon (Jackson's pretty-printer),
            // and Perl's or Ruby's `=>`.
            (
                "{\"password\" : \"X1\", \"token\" :\"X2\"} password => \"X3\"".to_string(),
                format!("{{\"password\" : {REMOVED}, \"token\" :{REMOVED}}} password => {REMOVED}"),
            ),
            // Found by the review: fields after `=`, `]`, `|` or `;`.
            (
                "msg=token: t1 [auth]password: t2 x|secret: t3 a;key: t4".to_string(),
                format!(
                    "msg=token: {REMOVED} [auth]password: {REMOVED} x|secret: {REMOVED} a;key: {REMOVED}"
                ),
            ),
            // Found by the second hostile round: a quote escaped inside the value.
            (
                "{\"password\":\"ab\\\"SECRET_D2\"} token='x\\'y' done".to_string(),
                format!("{{\"password\":{REMOVED}}} token={REMOVED} done"),
            ),
            // Found by the mutation test: a multi-byte character before a colon.
            (
                "nonce(x)\u{fffd}http: ok".to_string(),
                format!("nonce({REMOVED})\u{fffd}http: ok"),
            ),
            // A path and its error are not a field.
            (
                "/opt/zscaler/var/provision_key: no such file".to_string(),
                "/opt/zscaler/var/provision_key: no such file".to_string(),
            ),
            // A URL and a time are not fields.
            (
                "at 10:42:01 fetched https://config.zscaler.com/api".to_string(),
                "at 10:42:01 fetched https://config.zscaler.com/api".to_string(),
            ),
            (
                format!(
                    "Login request failed - http status(401) nonce(<3|api.private.zscaler.com|{}>) fingerprint(x)",
                    &TOKEN[..20]
                ),
                format!("Login request failed - http status(401) nonce({REMOVED}) fingerprint(x)"),
            ),
            (
                format!("key {TOKEN} in a line"),
                format!("key {REMOVED} in a line"),
            ),
            (
                format!("echoed {}…", &TOKEN[..12]),
                format!("echoed {REMOVED}…"),
            ),
            // The cloud and the key's first field are not secrets: hosts stay readable.
            (
                "api.private.zscaler.com 3 times".to_string(),
                "api.private.zscaler.com 3 times".to_string(),
            ),
            (
                "HTTPS_PROXY=http://bob:pa/ss@proxy.corp:3128".to_string(),
                format!("HTTPS_PROXY=http://{REMOVED}@proxy.corp:3128"),
            ),
            (
                "AWS_SECRET_ACCESS_KEY=abc123\nPATH=/usr/bin\n".to_string(),
                format!("AWS_SECRET_ACCESS_KEY={REMOVED}\nPATH=/usr/bin\n"),
            ),
            (
                "export DB_PASSWORD='x y'".to_string(),
                format!("DB_PASSWORD={REMOVED}"),
            ),
            ("nonce(unclosed".to_string(), format!("nonce({REMOVED}")),
            // Inside a log line: the word's value goes, the rest of the line stays.
            (
                "chain API_TOKEN=tok-1 retrying, password=\"a b\" then".to_string(),
                format!("chain API_TOKEN={REMOVED} retrying, password={REMOVED} then"),
            ),
            (
                "timeout=30 route=a=b".to_string(),
                "timeout=30 route=a=b".to_string(),
            ),
            // A connector proxy file: no scheme, still credentials.
            (
                "bob:pw@10.0.0.5:8080\n".to_string(),
                format!("{REMOVED}@10.0.0.5:8080\n"),
            ),
            (
                "https_proxy=\"http://alice:s3c@ret@proxy.corp:3128\"\nNO_PROXY=localhost\n"
                    .to_string(),
                format!("https_proxy=\"http://{REMOVED}@proxy.corp:3128\"\nNO_PROXY=localhost\n"),
            ),
            // HTTP credential headers: the scheme stays, the credential goes.
            (
                "> Authorization: Basic Ym9iOmh1bnRlcjI=\r\n".to_string(),
                format!("> Authorization: Basic {REMOVED}\r\n"),
            ),
            (
                "proxy said Proxy-Authorization:Bearer eyJhbGciOi.x.y".to_string(),
                format!("proxy said Proxy-Authorization:Bearer {REMOVED}"),
            ),
            (
                "Cookie: session=abc; csrf=def\nnext".to_string(),
                format!("Cookie: {REMOVED}\nnext"),
            ),
            (
                "< Set-Cookie: ZPA=xyz; Path=/".to_string(),
                format!("< Set-Cookie: {REMOVED}"),
            ),
            // `name: value` fields whose name says secret, in a log line or JSON.
            (
                "enroll token: tok-123 sent".to_string(),
                format!("enroll token: {REMOVED} sent"),
            ),
            (
                "{\"password\": \"p w\", \"user\": \"bob\"}".to_string(),
                format!("{{\"password\": {REMOVED}, \"user\": \"bob\"}}"),
            ),
            (
                "key: abc secret:def passwd: ghi api-key: jkl".to_string(),
                format!("key: {REMOVED} secret:{REMOVED} passwd: {REMOVED} api-key: {REMOVED}"),
            ),
            // What is not a credential stays: an e-mail, an address and port, a time.
            (
                "mail ops@corp.example at 10:42:01 to [2001:db8::1]:443".to_string(),
                "mail ops@corp.example at 10:42:01 to [2001:db8::1]:443".to_string(),
            ),
        ];
        for (input, expected) in cases {
            assert_eq!(secrets.scrub(&input), expected, "{input}");
        }
    }

    /// fuzz/artifacts/log/crash-a4c87fc8…: a token shorter than the cloud's name.
    #[test]
    fn the_token_is_the_keys_last_field_whatever_its_length() {
        let secrets = Secrets::from_key("3|api.private.zscaler.com|TOKENTOKENTOKEN");
        let text = "Enroll: Connecting to api.private.zscaler.com via co2br\nrrrTOKENTOKENrrr";
        let scrubbed = secrets.scrub(text);
        assert!(scrubbed.contains("api.private.zscaler.com"), "{scrubbed}");
        assert!(!scrubbed.contains("TOKENTOKEN"), "{scrubbed}");
    }

    /// A long line of colons is scrubbed in linear time (it was quadratic: minutes for 8 MiB).
    #[test]
    fn a_line_of_colons_is_linear() {
        let line = "a:".repeat(2_000_000);
        let started = std::time::Instant::now();
        let out = Secrets::default().scrub(&line);
        assert_eq!(out.len(), line.len());
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
    }

    #[test]
    fn a_truncated_key_removes_nothing_but_its_shape() {
        let secrets = Secrets::from_key("3");
        assert_eq!(secrets.scrub("schema 1.3, 3 names"), "schema 1.3, 3 names");
        assert_eq!(secrets.scrub("nonce(<3>)"), format!("nonce({REMOVED})"));
    }

    #[test]
    fn json_is_scrubbed_as_data() {
        let secrets = Secrets::from_key(&format!("3|api.private.zscaler.com|{TOKEN}"));
        let mut value = serde_json::json!({
            "schema_version": "1.3",
            "host": "api.private.zscaler.com",
            "lines": [format!("nonce(<3|x|{TOKEN}>)")],
        });
        scrub_json(&mut value, &secrets);
        assert_eq!(value["schema_version"], "1.3");
        assert_eq!(value["host"], "api.private.zscaler.com");
        assert_eq!(value["lines"][0], format!("nonce({REMOVED})"));
    }
}
