//! Connector log lines: triage and the secret scrub, on any bytes.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let secrets = zpa_preflight::secrets::Secrets::from_key("3|api.private.zscaler.com|TOKENTOKENTOKEN");
    let scrubbed = secrets.scrub(&text);
    assert!(!scrubbed.contains("TOKENTOKEN"), "the token survived: {scrubbed:?}");
    let _ = zpa_preflight::secrets::Secrets::from_key(&text).scrub("nonce(<x>) http://a:b@c");
});
