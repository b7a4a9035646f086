//! The TLS probe: a handshake with the right SNI that records the presented chain and never
//! sends application data, then verifies that chain against every trust store at hand.
//!
//! The handshake's verifier accepts any chain on purpose: the point is to *see* what an
//! inspecting proxy presents, and a verifier that aborted would hide it. The chain is judged
//! afterwards, against Mozilla's roots, the system bundle and `--trust` anchors, at a moment
//! inside the leaf's own validity so that a skewed clock cannot distort the verdict. The
//! handshake still checks the server's signatures, so a peer that cannot prove it holds the
//! key does not complete.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;

use crate::error::InputError;
use crate::evidence::{
    ChainCert, ChainVerification, HandshakeResult, StoreState, TlsHandshake, Trust,
};
use crate::plan::schedule::{Change, SMALL_MSS};
use crate::plan::{Origin, Plan, TrustClass, TrustFile};
use crate::x509;

/// A `--trust [CLASS=]FILE` anchor, read and parsed.
#[derive(Debug, Clone)]
pub struct Anchor {
    /// The class it vouches for; `None` for all.
    pub class: Option<TrustClass>,
    /// The file.
    pub path: String,
    /// Its certificates.
    pub certs: Vec<CertificateDer<'static>>,
}

impl Anchor {
    /// What the plan (and so the report) records of it.
    pub fn describe(&self) -> TrustFile {
        TrustFile {
            class: self.class,
            path: self.path.clone(),
            subjects: self
                .certs
                .iter()
                .filter_map(|c| x509::summarize(c).ok())
                .map(|s| s.subject.text)
                .collect(),
        }
    }
}

/// Reads `--trust [broker=|control=]FILE`: PEM certificates that count as genuine.
pub fn load_anchor(spec: &str) -> Result<Anchor, InputError> {
    let (class, path) = match spec.split_once('=') {
        Some(("broker", path)) => (Some(TrustClass::Broker), path),
        Some(("control", path)) => (Some(TrustClass::Control), path),
        _ => (None, spec),
    };
    // The same shapes as a saved chain: a CA exported from Windows (DER, PKCS#7) or a
    // console is as good an anchor as PEM.
    let bytes = crate::files::read_bytes(std::path::Path::new(path), crate::files::Kind::Anchor)?;
    let certs: Vec<CertificateDer<'static>> = crate::certs::certificates(&bytes)
        .map_err(|e| InputError::invalid(path, e))?
        .into_iter()
        .map(CertificateDer::from)
        .collect();
    if let Some(bad) = certs.iter().find_map(|c| x509::summarize(c).err()) {
        return Err(InputError::invalid(path, bad));
    }
    Ok(Anchor {
        class,
        path: path.to_string(),
        certs,
    })
}

/// Every trust store a chain is compared with, built once per run.
pub struct Verifiers {
    provider: Arc<CryptoProvider>,
    mozilla: Arc<WebPkiServerVerifier>,
    system: Option<Arc<WebPkiServerVerifier>>,
    anchors: Vec<(Option<TrustClass>, String, Arc<WebPkiServerVerifier>)>,
    /// What was found of the system bundle.
    pub store: StoreState,
}

impl Verifiers {
    /// Builds the verifiers; reads the system bundle named by the plan (under `--root`).
    pub fn new(plan: &Plan, anchors: &[Anchor]) -> Verifiers {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let (system, store) = match plan.system_trust.iter().find_map(|path| {
            // Under the root, as a chroot would (RHEL's bundle is a link into /etc/pki). A CA
            // bundle is a few hundred KiB; 16 MiB is far past any real one.
            let text = super::rootfs::RootFs::new(&path.root)
                .read(&path.rel, 16 << 20)
                .ok()?;
            Some((path, text.into_bytes()))
        }) {
            Some((path, bytes)) => {
                let mut roots = RootCertStore::empty();
                let certs = CertificateDer::pem_slice_iter(&bytes).filter_map(Result::ok);
                let (anchors, _ignored) = roots.add_parsable_certificates(certs);
                (
                    verifier(roots, &provider),
                    StoreState::Loaded {
                        path: path.to_string(),
                        anchors,
                    },
                )
            }
            None if plan.system_trust.is_empty() => (None, StoreState::NotRead),
            None => (
                None,
                StoreState::Missing {
                    tried: plan.system_trust.iter().map(ToString::to_string).collect(),
                },
            ),
        };
        Verifiers::with(provider, system, store, anchors)
    }

    /// Builds the verifiers for a chain judged away from the VM it was seen on (`explain
    /// --chain`): Mozilla's roots and the anchors, but no system store, which is that VM's.
    pub fn offline(anchors: &[Anchor]) -> Verifiers {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        Verifiers::with(provider, None, StoreState::NotRead, anchors)
    }

    fn with(
        provider: Arc<CryptoProvider>,
        system: Option<Arc<WebPkiServerVerifier>>,
        store: StoreState,
        anchors: &[Anchor],
    ) -> Verifiers {
        let mozilla = RootCertStore::from_iter(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let mozilla = verifier(mozilla, &provider).expect("Mozilla's roots are not empty");
        let anchors = anchors
            .iter()
            .filter_map(|a| {
                let mut roots = RootCertStore::empty();
                roots.add_parsable_certificates(a.certs.iter().cloned());
                Some((a.class, a.path.clone(), verifier(roots, &provider)?))
            })
            .collect();
        Verifiers {
            provider,
            mozilla,
            system,
            anchors,
            store,
        }
    }

    fn verify(
        &self,
        chain: &[CertificateDer<'static>],
        sni: &ServerName<'static>,
        class: TrustClass,
    ) -> ChainVerification {
        let Some((leaf, intermediates)) = chain.split_first() else {
            unreachable!("only called with a presented chain");
        };
        // Inside the leaf's own validity: "does it chain?" must not depend on our clock.
        let at = x509::summarize(leaf)
            .map(|s| s.not_before / 2 + s.not_after / 2)
            .ok()
            .and_then(|secs| u64::try_from(secs).ok())
            .map(|secs| UnixTime::since_unix_epoch(Duration::from_secs(secs)))
            .unwrap_or_else(UnixTime::now);
        let check = |v: &WebPkiServerVerifier| match v.verify_server_cert(
            leaf,
            intermediates,
            sni,
            &[],
            at,
        ) {
            Ok(_) => Trust::Verified,
            Err(e) => Trust::Untrusted {
                reason: e.to_string(),
            },
        };
        ChainVerification {
            mozilla: check(&self.mozilla),
            system: self.system.as_deref().map_or(Trust::NotChecked, check),
            anchor: self
                .anchors
                .iter()
                .filter(|(c, _, _)| c.is_none_or(|c| c == class))
                .find(|(_, _, v)| check(v) == Trust::Verified)
                .map(|(_, path, _)| path.clone()),
        }
    }
}

fn verifier(
    roots: RootCertStore,
    provider: &Arc<CryptoProvider>,
) -> Option<Arc<WebPkiServerVerifier>> {
    WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .ok()
}

/// An explicit proxy a handshake tunnels through.
#[derive(Clone)]
pub struct Via {
    /// The proxy's address, or why it has none (its name did not resolve).
    pub addr: Result<SocketAddr, String>,
    /// `addr (source)`, for the report.
    pub label: String,
}

/// Where one handshake goes.
pub struct Target {
    /// Address.
    pub addr: IpAddr,
    /// Port.
    pub port: u16,
    /// Server name to send.
    pub sni: String,
    /// Why.
    pub origin: Origin,
    /// What it should present.
    pub class: TrustClass,
    /// The explicit proxy to tunnel through, if any.
    pub via: Option<Via>,
}

/// Performs one handshake and judges nothing: records the chain and how it verifies.
pub async fn handshake(target: Target, timeout: Duration, verifiers: &Verifiers) -> TlsHandshake {
    capture(target, timeout, verifiers).await.0
}

/// Like [`handshake`], also returning the presented certificates themselves (`chain`).
pub async fn capture(
    target: Target,
    timeout: Duration,
    verifiers: &Verifiers,
) -> (TlsHandshake, Vec<CertificateDer<'static>>) {
    let recorder = Arc::new(Recorder {
        chain: Mutex::new(Vec::new()),
        provider: verifiers.provider.clone(),
    });
    let result = match ServerName::try_from(target.sni.clone()) {
        Ok(name) => {
            run(
                &target,
                name,
                timeout,
                recorder.clone(),
                &verifiers.provider,
                Shape::default(),
            )
            .await
        }
        Err(e) => HandshakeResult::Failed {
            detail: format!("'{}' is not a server name: {e}", target.sni),
        },
    };
    let chain = std::mem::take(&mut *recorder.chain.lock().expect("not poisoned"));
    let mut handshake = record(&chain, target, result, verifiers);
    handshake.local_time = chrono::Utc::now().timestamp();
    (handshake, chain)
}

/// `chain`: one handshake to `host` (a name resolved by the system, as the connector's own
/// lookups are, or an address), judged against nothing, its certificates kept. A name that
/// does not resolve in `timeout` is the reason returned, not a handshake.
pub async fn capture_named(
    host: &str,
    port: u16,
    sni: String,
    spec: &str,
    proxy: Option<SocketAddr>,
    timeout: Duration,
) -> Result<(TlsHandshake, Vec<CertificateDer<'static>>), String> {
    let addr = match host.parse::<IpAddr>() {
        Ok(ip) => ip,
        Err(_) => {
            let lookup = tokio::net::lookup_host((host, port));
            match tokio::time::timeout(timeout, lookup).await {
                Ok(Ok(mut addrs)) => match addrs.next() {
                    Some(addr) => addr.ip(),
                    None => return Err(format!("{host} has no address")),
                },
                Ok(Err(e)) => return Err(format!("{host} does not resolve: {e}")),
                Err(_) => return Err(format!("{host}: no DNS answer in time")),
            }
        }
    };
    let target = Target {
        addr,
        port,
        sni,
        origin: Origin::User {
            spec: spec.to_string(),
        },
        class: TrustClass::Broker,
        via: proxy.map(|proxy| Via {
            addr: Ok(proxy),
            label: format!("{proxy} (--proxy)"),
        }),
    };
    Ok(capture(target, timeout, &Verifiers::offline(&[])).await)
}

/// A chain saved from an earlier handshake (a PEM bundle, `openssl s_client -showcerts`
/// output), recorded as if it had just been presented for `sni`, so the same rules judge it.
/// Nothing is contacted; no local time is recorded, since the chain was not seen now.
pub fn saved(
    chain: &[CertificateDer<'static>],
    file: &str,
    sni: &str,
    class: TrustClass,
    verifiers: &Verifiers,
) -> TlsHandshake {
    let target = Target {
        addr: IpAddr::from([0, 0, 0, 0]),
        port: 0,
        sni: sni.to_string(),
        origin: Origin::SavedChain {
            file: file.to_string(),
        },
        class,
        via: None,
    };
    let result = HandshakeResult::Completed {
        protocol: "unknown (saved chain)".into(),
        ms: 0,
    };
    record(chain, target, result, verifiers)
}

/// The name a chain is verified against: the server name itself, or, for a wildcard (a saved
/// leaf whose only names are `*.prod.zpath.net`), a name the wildcard covers, so that the
/// chain is judged as presented for it. `None` when there is no name at all.
fn verification_name(sni: &str) -> Option<ServerName<'static>> {
    if let Ok(name) = ServerName::try_from(sni.to_string()) {
        return Some(name);
    }
    let rest = sni.strip_prefix("*.")?;
    ServerName::try_from(format!("wildcard.{rest}")).ok()
}

fn record(
    chain: &[CertificateDer<'static>],
    target: Target,
    result: HandshakeResult,
    verifiers: &Verifiers,
) -> TlsHandshake {
    let verification = verification_name(&target.sni)
        .filter(|_| !chain.is_empty())
        .map(|name| verifiers.verify(chain, &name, target.class));
    TlsHandshake {
        addr: target.addr,
        port: target.port,
        sni: target.sni,
        origin: target.origin,
        class: target.class,
        result,
        chain: chain
            .iter()
            .map(|der| match x509::summarize(der) {
                Ok(summary) => ChainCert::Parsed(Box::new(summary)),
                Err(error) => ChainCert::Unparsable {
                    sha256: x509::sha256_hex(der),
                    len: der.len(),
                    error,
                },
            })
            .collect(),
        verification,
        local_time: 0,
        via_proxy: target.via.map(|v| v.label),
        follow_ups: Vec::new(),
    }
}

/// The certificates of a saved chain, leaf first, in any shape people hand them over
/// ([`crate::certs`]: DER, PKCS#7, PEM however wrapped or encoded, a pasted `openssl s_client
/// -showcerts` transcript). A certificate repeated right after itself (s_client's "Server
/// certificate" section) counts once.
pub fn parse_chain(bytes: &[u8]) -> Result<Vec<CertificateDer<'static>>, String> {
    let mut certs: Vec<CertificateDer<'static>> = Vec::new();
    for der in crate::certs::certificates(bytes)? {
        let cert = CertificateDer::from(der);
        if certs.last() != Some(&cert) {
            certs.push(cert);
        }
    }
    if let Some((i, bad)) = certs
        .iter()
        .enumerate()
        .find_map(|(i, c)| x509::summarize(c).err().map(|e| (i, e)))
    {
        return Err(format!("certificate {} of the chain: {bad}", i + 1));
    }
    Ok(certs)
}

async fn run(
    target: &Target,
    name: ServerName<'static>,
    timeout: Duration,
    recorder: Arc<Recorder>,
    provider: &Arc<CryptoProvider>,
    shape: Shape,
) -> HandshakeResult {
    match open(target, name, timeout, recorder, provider, shape).await {
        Err(result) => result,
        Ok((stream, started)) => HandshakeResult::Completed {
            protocol: stream
                .get_ref()
                .1
                .protocol_version()
                .map_or_else(|| "unknown".into(), |v| format!("{v:?}")),
            ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        },
    }
}

/// What a ClientHello and its connection look like: the default, or one follow-up's
/// [`Change`].
#[derive(Clone, Copy, Default)]
struct Shape {
    change: Option<Change>,
}

impl Shape {
    fn versions(self) -> &'static [&'static rustls::SupportedProtocolVersion] {
        static TLS12: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS12];
        static TLS13: &[&rustls::SupportedProtocolVersion] = &[&rustls::version::TLS13];
        match self.change {
            Some(Change::Tls12Only) => TLS12,
            Some(Change::Tls13Only) => TLS13,
            _ => rustls::DEFAULT_VERSIONS,
        }
    }
}

/// One follow-up of a handshake that was cut off: the same address and port, changed by
/// `change`, accepting any chain (whether it gets through is the finding, not who signs).
pub async fn follow_up(
    target: Target,
    change: Change,
    timeout: Duration,
    verifiers: &Verifiers,
) -> HandshakeResult {
    let recorder = Arc::new(Recorder {
        chain: Mutex::new(Vec::new()),
        provider: verifiers.provider.clone(),
    });
    let sni = match change {
        Change::OtherName => crate::plan::schedule::NEUTRAL_SNI.to_string(),
        _ => target.sni.clone(),
    };
    let Ok(name) = ServerName::try_from(sni) else {
        return HandshakeResult::Failed {
            detail: "not a server name".into(),
        };
    };
    let shape = Shape {
        change: Some(change),
    };
    run(&target, name, timeout, recorder, &verifiers.provider, shape).await
}

/// A TCP connection whose segments this side asks to be at most `mss` bytes (`TCP_MAXSEG`
/// before the connect, so the SYN advertises it and the server's first flight obeys it).
async fn connect_small(destination: SocketAddr, mss: u32) -> io::Result<TcpStream> {
    let socket = socket2::Socket::new(
        socket2::Domain::for_address(destination),
        socket2::Type::STREAM,
        Some(socket2::Protocol::TCP),
    )?;
    socket.set_tcp_mss(mss)?;
    socket.set_nonblocking(true)?;
    let socket = tokio::net::TcpSocket::from_std_stream(std::net::TcpStream::from(socket));
    socket.connect(destination).await
}

/// Opens a TLS session to `target` (through its proxy, if any), recording the chain.
async fn open(
    target: &Target,
    name: ServerName<'static>,
    timeout: Duration,
    recorder: Arc<Recorder>,
    provider: &Arc<CryptoProvider>,
    shape: Shape,
) -> Result<(tokio_rustls::client::TlsStream<TcpStream>, Instant), HandshakeResult> {
    let mut config = match ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(shape.versions())
    {
        Ok(builder) => builder
            .dangerous()
            .with_custom_certificate_verifier(recorder)
            .with_no_client_auth(),
        Err(e) => {
            return Err(HandshakeResult::Failed {
                detail: e.to_string(),
            });
        }
    };
    config.enable_sni = shape.change != Some(Change::NoName);
    // A config lives for one handshake, so its session cache is never read again; the default
    // one (256 entries) is allocated up front, 13 KiB per handshake in flight. One entry keeps
    // resumption on, so the ClientHello offers what it always did (a middlebox judging its
    // shape sees the same hello).
    config.resumption = rustls::client::Resumption::in_memory_sessions(1);
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let started = Instant::now();
    // One budget for connect and handshake, but a silent drop of the SYN is the TCP probe's
    // finding, not "no answer to the ClientHello".
    let deadline = tokio::time::Instant::now() + timeout;
    let destination = SocketAddr::new(target.addr, target.port);
    let connect = async {
        match shape.change {
            Some(Change::SmallSegments) => connect_small(destination, SMALL_MSS).await,
            _ => TcpStream::connect(destination).await,
        }
    };
    let tcp = match &target.via {
        None => match tokio::time::timeout_at(deadline, connect).await {
            Ok(Ok(tcp)) => tcp,
            Ok(Err(e)) => {
                return Err(HandshakeResult::ConnectFailed {
                    detail: e.to_string(),
                });
            }
            Err(_) => {
                return Err(HandshakeResult::ConnectFailed {
                    detail: "connect timed out".into(),
                });
            }
        },
        Some(via) => {
            let proxy = match &via.addr {
                Ok(proxy) => *proxy,
                Err(why) => {
                    return Err(HandshakeResult::ProxyUnreachable {
                        detail: why.clone(),
                    });
                }
            };
            let tunnel = super::proxy::tunnel(proxy, destination);
            match tokio::time::timeout_at(deadline, tunnel).await {
                Ok(Ok(tcp)) => tcp,
                Ok(Err(super::proxy::ConnectError::Unreachable(detail))) => {
                    return Err(HandshakeResult::ProxyUnreachable { detail });
                }
                Ok(Err(super::proxy::ConnectError::Refused(status))) => {
                    return Err(HandshakeResult::ProxyRefused { status });
                }
                Err(_) => {
                    return Err(HandshakeResult::ProxyUnreachable {
                        detail: "no answer from the proxy before the timeout".into(),
                    });
                }
            }
        }
    };
    match tokio::time::timeout_at(deadline, connector.connect(name, tcp)).await {
        Err(_) => Err(HandshakeResult::TimedOut {
            ms: u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX),
        }),
        Ok(Err(e)) => Err(classify(&e)),
        Ok(Ok(stream)) => Ok((stream, started)),
    }
}

/// A TLS session to `target` that accepts any chain (the TLS check judges chains; this is for
/// reading an HTTP `Date`, which a skewed clock or a proxy must not prevent).
pub async fn open_any(
    target: &Target,
    timeout: Duration,
    verifiers: &Verifiers,
) -> Result<tokio_rustls::client::TlsStream<TcpStream>, String> {
    let recorder = Arc::new(Recorder {
        chain: Mutex::new(Vec::new()),
        provider: verifiers.provider.clone(),
    });
    let name = ServerName::try_from(target.sni.clone()).map_err(|e| e.to_string())?;
    open(
        target,
        name,
        timeout,
        recorder,
        &verifiers.provider,
        Shape::default(),
    )
    .await
    .map(|(stream, _)| stream)
    .map_err(|result| format!("{result:?}"))
}

/// Maps a handshake error to what it says about the path.
fn classify(error: &io::Error) -> HandshakeResult {
    if let Some(tls) = error
        .get_ref()
        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
    {
        return match tls {
            rustls::Error::AlertReceived(alert) => HandshakeResult::Alert {
                alert: format!("{alert:?}"),
            },
            other => HandshakeResult::Failed {
                detail: other.to_string(),
            },
        };
    }
    match error.kind() {
        io::ErrorKind::ConnectionReset => HandshakeResult::Reset,
        io::ErrorKind::UnexpectedEof | io::ErrorKind::ConnectionAborted => HandshakeResult::Closed,
        _ => HandshakeResult::Failed {
            detail: error.to_string(),
        },
    }
}

/// A verifier that records the presented chain and accepts it, so the handshake goes on far
/// enough to show what is presented. Signatures are still checked.
#[derive(Debug)]
struct Recorder {
    chain: Mutex<Vec<CertificateDer<'static>>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for Recorder {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let mut chain = self.chain.lock().expect("not poisoned");
        chain.push(end_entity.clone().into_owned());
        chain.extend(intermediates.iter().map(|c| c.clone().into_owned()));
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
