//! Saved reports, as `explain` reads them: any bytes, never a panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(report) = zpa_preflight::report::parse(&String::from_utf8_lossy(data)) {
        // What explain does next: judge it again.
        let _ = report.rejudge(&[]);
    }
});
