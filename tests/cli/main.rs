//! Integration tests: the real binary against real servers on loopback and in network
//! namespaces the tests create. One test binary (one link step on a 2-core machine).

mod architecture;
mod bounded;
mod bundle;
mod causes;
mod chains;
mod check;
mod clock;
mod contract;
mod edges;
mod examples;
mod explain;
mod feed;
mod formats;
mod gate;
mod golden;
mod host;
mod input;
mod lab;
mod manual;
mod mutations;
mod netns;
mod proxy;
mod schema;
mod secrets;
mod signals;
mod size;
mod support;
mod unjudged;
