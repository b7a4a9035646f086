//! Profiles given with --profile FILE: any bytes, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = zpa_preflight::profile::parse(&String::from_utf8_lossy(data), "fuzz.toml", None);
});
