//! A broker on loopback for the TLS tests: TLS on 443 presenting a chosen chain (or a hostile
//! variant), plain TCP on 9000. Served with rustls in threads; stopped on drop.

use std::io::Read;
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls::{ServerConfig, ServerConnection};

use super::repo;

/// What the TLS port does.
pub enum BrokerMode {
    /// Presents this chain, signing with this key.
    Chain(Vec<CertificateDer<'static>>, PrivateKeyDer<'static>),
    /// Presents bytes that are not a certificate.
    Garbage,
    /// Presents the genuine leaf followed by this many copies of its CA.
    LongChain(usize),
    /// Presents a "certificate" of this many bytes.
    HugeCert(usize),
    /// Reads the ClientHello and never answers.
    Silent,
    /// Reads the ClientHello and closes.
    CloseAfterHello,
}

impl BrokerMode {
    /// A chain and key from PEM files.
    pub fn chain(chain: &Path, key: &Path) -> BrokerMode {
        let certs = CertificateDer::pem_file_iter(chain)
            .unwrap()
            .collect::<Result<Vec<_>, _>>()
            .unwrap();
        BrokerMode::Chain(certs, PrivateKeyDer::from_pem_file(key).unwrap())
    }
}

/// The running broker; both ports close on drop.
pub struct TlsBroker {
    addr: Ipv4Addr,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
    _plain: Option<TcpListener>,
}

impl TlsBroker {
    /// Listens on `addr`:443 (TLS per `mode`) and `addr`:9000 (TCP).
    pub fn start(addr: Ipv4Addr, mode: BrokerMode) -> TlsBroker {
        Self::listen(addr, mode, true, None)
    }

    /// Like `start`, and answers an HTTP request over TLS with a `Date` header `offset`
    /// seconds off this machine's clock: an HTTPS host with a skewed (or right) clock.
    pub fn dated(addr: Ipv4Addr, mode: BrokerMode, offset: f64) -> TlsBroker {
        Self::listen(addr, mode, true, Some(offset))
    }

    /// The genuine lab broker: the `broker-genuine` fixture chain on 443, TCP on 9000.
    pub fn genuine(addr: Ipv4Addr) -> TlsBroker {
        Self::listen(addr, genuine_chain(), true, None)
    }

    /// The genuine lab broker with nothing on 9000.
    pub fn genuine_without_9000(addr: Ipv4Addr) -> TlsBroker {
        Self::listen(addr, genuine_chain(), false, None)
    }

    fn listen(addr: Ipv4Addr, mode: BrokerMode, with_9000: bool, date: Option<f64>) -> TlsBroker {
        let listener = TcpListener::bind((addr, 443)).expect("bind 443");
        listener.set_nonblocking(true).unwrap();
        let plain = with_9000.then(|| TcpListener::bind((addr, 9000)).expect("bind 9000"));
        let config = server_config(&mode).map(Arc::new);
        let mode = Arc::new(mode);
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = stop.clone();
        let thread = std::thread::spawn(move || {
            while !stopped.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => {
                        let (config, mode, stopped) =
                            (config.clone(), mode.clone(), stopped.clone());
                        std::thread::spawn(move || serve(stream, config, &mode, &stopped, date));
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        TlsBroker {
            addr,
            stop,
            thread: Some(thread),
            _plain: plain,
        }
    }
}

impl TlsBroker {
    /// The address it listens on.
    pub fn addr(&self) -> Ipv4Addr {
        self.addr
    }
}

impl Drop for TlsBroker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

fn serve(
    mut stream: TcpStream,
    config: Option<Arc<ServerConfig>>,
    mode: &BrokerMode,
    stop: &AtomicBool,
    date: Option<f64>,
) {
    stream.set_nonblocking(false).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(200)))
        .unwrap();
    match (mode, config) {
        (BrokerMode::Silent, _) => {
            let mut buf = [0u8; 4096];
            while !stop.load(Ordering::Relaxed) {
                let _ = stream.read(&mut buf);
            }
        }
        (BrokerMode::CloseAfterHello, _) | (_, None) => {
            let mut buf = [0u8; 4096];
            let _ = stream.read(&mut buf);
        }
        (_, Some(config)) => {
            stream
                .set_read_timeout(Some(Duration::from_secs(5)))
                .unwrap();
            let mut conn = ServerConnection::new(config).unwrap();
            while conn.is_handshaking() {
                if conn.complete_io(&mut stream).is_err() {
                    return;
                }
            }
            if let Some(offset) = date {
                answer_with_date(&mut conn, &mut stream, offset);
            }
        }
    }
}

/// Reads one HTTP request and answers 200 with a `Date` `offset` seconds off our clock.
fn answer_with_date(conn: &mut ServerConnection, stream: &mut TcpStream, offset: f64) {
    use std::io::Write;
    let mut tls = rustls::Stream::new(conn, stream);
    let mut request = Vec::new();
    let mut buf = [0u8; 1024];
    while !request.windows(4).any(|w| w == b"\r\n\r\n") {
        match tls.read(&mut buf) {
            Ok(0) | Err(_) => return,
            Ok(n) => request.extend_from_slice(&buf[..n]),
        }
    }
    let when = chrono::Utc::now() + chrono::Duration::milliseconds((offset * 1000.0) as i64);
    let response = format!(
        "HTTP/1.1 200 OK\r\nDate: {}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        when.format("%a, %d %b %Y %H:%M:%S GMT")
    );
    let _ = tls.write_all(response.as_bytes());
    let _ = tls.flush();
    tls.conn.send_close_notify();
    let _ = tls.conn.complete_io(tls.sock);
}

fn genuine_chain() -> BrokerMode {
    let dir = repo("fixtures/chains/broker-genuine");
    BrokerMode::chain(&dir.join("chain.pem"), &dir.join("key.pem"))
}

fn server_config(mode: &BrokerMode) -> Option<ServerConfig> {
    let (certs, key) = match mode {
        BrokerMode::Chain(certs, key) => (certs.clone(), key.clone_key()),
        BrokerMode::Silent | BrokerMode::CloseAfterHello => return None,
        hostile => {
            let BrokerMode::Chain(chain, key) = genuine_chain() else {
                unreachable!()
            };
            let certs = match hostile {
                BrokerMode::Garbage => {
                    vec![CertificateDer::from(vec![0x30, 0x03, 0x02, 0x01, 0x05])]
                }
                BrokerMode::LongChain(n) => {
                    let mut certs = vec![chain[0].clone()];
                    certs.extend(std::iter::repeat_n(chain[1].clone(), *n));
                    certs
                }
                BrokerMode::HugeCert(size) => vec![CertificateDer::from(vec![0x30; *size])],
                _ => unreachable!(),
            };
            (certs, key)
        }
    };
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let signing = provider.key_provider.load_private_key(key).unwrap();
    let certified = Arc::new(CertifiedKey::new(certs, signing));
    Some(
        ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_cert_resolver(Arc::new(Fixed(certified))),
    )
}

/// Always the same certificate: rustls checks nothing about it, which is what lets the
/// hostile modes present garbage.
#[derive(Debug)]
struct Fixed(Arc<CertifiedKey>);

impl ResolvesServerCert for Fixed {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.clone())
    }
}
