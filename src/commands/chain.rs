//! `chain`: one handshake, its certificates printed for an operator to read or pin.

use super::output::print;
use crate::cli::{ChainArgs, ChainFormat};
use crate::error::Error;
use crate::exit::Exit;
use crate::render;

/// Runs `chain`: exit 0 when a chain was presented, 3 (through [`Error::NoChain`]) when none.
pub fn run(args: &ChainArgs) -> Result<Exit, Error> {
    let target = &args.host;
    let sni = args.sni.clone().unwrap_or_else(|| target.host.clone());
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(Error::Runtime)?;
    let captured = runtime.block_on(crate::probe::tls::capture_named(
        &target.host,
        target.port,
        sni,
        &target.spec,
        args.proxy,
        args.timeout,
    ));
    // The system's name lookup runs on a blocking thread that a timeout cannot stop; waiting
    // for it when the runtime is dropped would outlast --timeout (a resolver that never
    // answers held `chain` for 10 s). It is left behind instead.
    runtime.shutdown_background();
    let (handshake, ders) = captured.map_err(Error::NoChain)?;
    if ders.is_empty() {
        return Err(Error::NoChain(format!(
            "{}:{} presented no certificate: {}",
            handshake.addr,
            handshake.port,
            handshake.result.label()
        )));
    }
    if args.format == ChainFormat::Pem && ders.len() < 2 {
        return Err(Error::NoChain(format!(
            "{} sent its leaf only: no CA certificate to pin",
            handshake.sni
        )));
    }
    print(|out| match args.format {
        ChainFormat::Human => render::chain::human(out, &handshake, &ders),
        ChainFormat::Json => render::chain::json(out, &handshake, &ders),
        ChainFormat::Pem => render::chain::pem(out, &ders),
    })?;
    Ok(Exit::Ready)
}
