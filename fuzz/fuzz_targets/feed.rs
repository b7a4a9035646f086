//! Feeds in every shape: any bytes, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let _ = zpa_preflight::profile::feed::parse_feed(
        &text,
        zpa_preflight::profile::CONNECTOR_SOURCE,
        "fuzz",
        true,
    );
});
