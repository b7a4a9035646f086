//! The loopback lab, built in one place: dnsmasq on 127.0.0.1 answering the lab's names with
//! fresh 127.77.x.y addresses where TLS brokers listen on the real ports. Needs dnsmasq and
//! root (port 443); without them a test says why and passes as skipped.

use std::net::Ipv4Addr;

use super::tls_server::TlsBroker;
use super::*;

/// A running loopback lab; everything stops when it is dropped.
pub struct LoopbackLab {
    /// The lab's DNS server (ask it with `--dns-server`).
    pub dns: Dnsmasq,
    /// Where `broker.zpa.test` and `api.zpa.test` point.
    pub addr: Ipv4Addr,
    /// The broker serving there.
    pub broker: TlsBroker,
    /// Where `dist.zpa.test` points, and what serves it, when the lab has a control host
    /// (held so that it serves until the lab is dropped).
    #[allow(dead_code)]
    pub control: Option<(Ipv4Addr, TlsBroker)>,
}

impl LoopbackLab {
    /// Brokers started by `broker` (e.g. `TlsBroker::genuine`) at one fresh address, named
    /// `broker.zpa.test` and `api.zpa.test`.
    pub fn up(broker: impl FnOnce(Ipv4Addr) -> TlsBroker) -> Option<LoopbackLab> {
        LoopbackLab::build(broker, None::<fn(Ipv4Addr) -> TlsBroker>)
    }

    /// The same, plus the control host `dist.zpa.test` served by `control` at another address.
    pub fn with_control(
        broker: impl FnOnce(Ipv4Addr) -> TlsBroker,
        control: impl FnOnce(Ipv4Addr) -> TlsBroker,
    ) -> Option<LoopbackLab> {
        LoopbackLab::build(broker, Some(control))
    }

    fn build(
        broker: impl FnOnce(Ipv4Addr) -> TlsBroker,
        control: Option<impl FnOnce(Ipv4Addr) -> TlsBroker>,
    ) -> Option<LoopbackLab> {
        if !require(
            have_dnsmasq(),
            "dnsmasq is not installed (apt-get install dnsmasq-base)",
        ) || !require(is_root(), "brokers on 127.77.x.y:443 need root")
        {
            return None;
        }
        let addr = fresh_loopback();
        let broker = broker(addr);
        let control = control.map(|start| {
            let at = fresh_loopback();
            (at, start(at))
        });
        let mut answers = vec![
            Answer::A("broker.zpa.test", addr),
            Answer::A("api.zpa.test", addr),
        ];
        if let Some((at, _)) = &control {
            answers.push(Answer::A("dist.zpa.test", *at));
        }
        let dns = Dnsmasq::start(Ipv4Addr::LOCALHOST, 0, &answers);
        Some(LoopbackLab {
            dns,
            addr,
            broker,
            control,
        })
    }

    /// `check` with the lab profile against this lab's DNS, plus `extra`.
    pub fn check(&self, extra: &[&str]) -> Run {
        check_via(self.dns.addr, extra)
    }
}
