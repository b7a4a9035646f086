//! An HTTP CONNECT tunnel through an explicit proxy (the proxies themselves are the plan's:
//! [`crate::plan::proxy`]). CONNECT names the destination by IP literal, so a proxy never
//! resolves a name through some other resolver.

use std::net::SocketAddr;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// The longest CONNECT response header read before giving up on a peer.
const MAX_RESPONSE: usize = 8 * 1024;

/// How a CONNECT went, when it did not open a tunnel.
#[derive(Debug)]
pub enum ConnectError {
    /// The proxy itself could not be reached.
    Unreachable(String),
    /// It answered, but not with 2xx.
    Refused(String),
}

/// Opens a CONNECT tunnel to `target` through the proxy at `proxy`.
pub async fn tunnel(proxy: SocketAddr, target: SocketAddr) -> Result<TcpStream, ConnectError> {
    let mut stream = TcpStream::connect(proxy)
        .await
        .map_err(|e| ConnectError::Unreachable(e.to_string()))?;
    let request = format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n");
    stream
        .write_all(request.as_bytes())
        .await
        .map_err(|e| ConnectError::Unreachable(e.to_string()))?;
    // Read byte by byte up to the blank line: anything after it is the tunnel's.
    let mut head = Vec::new();
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() >= MAX_RESPONSE {
            return Err(ConnectError::Refused("response header too long".into()));
        }
        let byte = stream
            .read_u8()
            .await
            .map_err(|e| ConnectError::Refused(format!("closed before answering ({e})")))?;
        head.push(byte);
    }
    let status_line = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or_default()
        .to_string();
    match status_line
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse::<u16>().ok())
    {
        Some(200..=299) => Ok(stream),
        _ => Err(ConnectError::Refused(
            status_line.chars().take(120).collect(),
        )),
    }
}
