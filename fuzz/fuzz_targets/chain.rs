//! PEM bundles and `s_client -showcerts` transcripts, as `explain --chain` reads them.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = zpa_preflight::probe::tls::parse_chain(data);
    // And the certificate parser behind it, on raw DER.
    let _ = zpa_preflight::x509::summarize(data);
});
