//! Every parser of untrusted input, fed mutated copies of real inputs: none may panic or hang.
//! A stable-toolchain stand-in for fuzzing (no coverage guidance): a fixed-seed xorshift
//! generator flips, drops, repeats and splices bytes of each seed, a few thousand times each.

use zpa_preflight::probe::tls::parse_chain;
use zpa_preflight::profile::feed::parse_feed;
use zpa_preflight::profile::{self, CONNECTOR_SOURCE};
use zpa_preflight::report;
use zpa_preflight::secrets::Secrets;

use crate::support::repo;

/// Mutations per seed.
const ROUNDS: usize = 3_000;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// One mutation of `seed`.
fn mutate(seed: &[u8], rng: &mut Rng) -> Vec<u8> {
    let mut bytes = seed.to_vec();
    for _ in 0..=rng.below(4) {
        if bytes.is_empty() {
            bytes.push(rng.next() as u8);
            continue;
        }
        let at = rng.below(bytes.len());
        match rng.below(5) {
            0 => bytes[at] = rng.next() as u8,
            1 => {
                bytes.truncate(at);
            }
            2 => {
                let end = (at + rng.below(64)).min(bytes.len());
                let copy = bytes[at..end].to_vec();
                bytes.splice(at..at, copy);
            }
            3 => {
                let end = (at + rng.below(64)).min(bytes.len());
                bytes.drain(at..end);
            }
            _ => {
                const SYNTAX: &[u8] = b"{}[]\",:|\n0-./";
                bytes.insert(at, SYNTAX[rng.below(SYNTAX.len())]);
            }
        }
    }
    bytes
}

/// Each mutation of `seeds`, as bytes.
fn each_byte_mutation(seeds: &[Vec<u8>], mut check: impl FnMut(&[u8])) {
    let mut rng = Rng(0x5851_f42d_4c95_7f2d);
    for seed in seeds {
        for _ in 0..ROUNDS {
            check(&mutate(seed, &mut rng));
        }
    }
}

fn each_mutation(seeds: &[Vec<u8>], mut check: impl FnMut(&str)) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for seed in seeds {
        for _ in 0..ROUNDS {
            let text = String::from_utf8_lossy(&mutate(seed, &mut rng)).into_owned();
            check(&text);
        }
    }
}

fn read(rel: &str) -> Vec<u8> {
    std::fs::read(repo(rel)).unwrap()
}

#[test]
fn feeds_reports_bundles_chains_profiles_and_secrets_never_panic() {
    let feeds = vec![
        read("checks/feeds/zpa-private.json"),
        br#"{"zscaler.net": {"continent : EMEA": {"city : A": [{"range": "185.46.212.0/23"}]}}, "svpnIPs": ["165.225.0.1"]}"#.to_vec(),
        br#"{"cloudName": "zscaler.net", "type": "required", "hubPrefixes": ["165.225.80.0/22"]}"#.to_vec(),
        b"3.7.7.75/32\n104.129.192.0/20 # c\n2605:4300::/32\n".to_vec(),
    ];
    each_mutation(&feeds, |text| {
        let _ = parse_feed(text, CONNECTOR_SOURCE, "mutated", true);
    });
    each_mutation(
        &[
            read("fixtures/reports/v1.0-blocked-9000.json"),
            read("fixtures/reports/scenarios/tls.json"),
        ],
        |text| {
            let _ = report::parse(text);
        },
    );
    // Bundles: the gzip'd tar bytes themselves mutated, as a truncated or corrupted attachment
    // reaches `explain`.
    let bundle = {
        let report = read("fixtures/reports/v1.0-blocked-9000.json");
        let mut archive = tar::Builder::new(flate2::write::GzEncoder::new(
            Vec::new(),
            flate2::Compression::default(),
        ));
        let mut header = tar::Header::new_gnu();
        header.set_size(report.len() as u64);
        header.set_mode(0o644);
        header.set_cksum();
        archive
            .append_data(&mut header, "report.json", &report[..])
            .unwrap();
        archive.into_inner().unwrap().finish().unwrap()
    };
    assert!(zpa_preflight::bundle::read_report(&bundle[..]).is_ok());
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    for _ in 0..ROUNDS {
        let _ = zpa_preflight::bundle::read_report(&mutate(&bundle, &mut rng)[..]);
    }
    each_byte_mutation(
        &[
            read("fixtures/chains/resigned-fortinet/chain.pem"),
            read("fixtures/chains/formats/leaf.cer"),
            read("fixtures/chains/formats/chain.p7b"),
            read("fixtures/chains/formats/chain.p7c"),
        ],
        |bytes| {
            let _ = parse_chain(bytes);
        },
    );
    each_mutation(&[read("checks/profiles/cloud-connector.toml")], |text| {
        let _ = profile::parse(text, "mutated.toml", None);
    });
    let secrets = Secrets::from_key("3|api.private.zscaler.com|PLANTED-SECRET-token-token");
    each_mutation(
        &[
            b"nonce(<3|api|PLANTED-SECRET-token>) http://a:b@c/ KEY=v\n".to_vec(),
            b"> Authorization: Basic eA==\r\n{\"token\": \"t\"} api-key: k Cookie: a=b\n".to_vec(),
        ],
        |text| {
            let _ = secrets.scrub(text);
        },
    );
}
