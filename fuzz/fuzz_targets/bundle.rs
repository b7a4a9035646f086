//! Bundles (gzip'd tar), as `explain` reads a customer's attachment: any bytes, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = zpa_preflight::bundle::read_report(data) {
        let _ = report.rejudge(&[]);
    }
});
