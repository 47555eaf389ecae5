//! End-to-end tests: the real `sockmate` binary against real sockets on
//! loopback and real peer tools (socat, ncat, OpenBSD nc, Python).

mod util;

mod bench;
mod device;
mod foundation;
mod halfclose;
mod interop;
mod packaging;
mod regressions;
mod relay;
mod scan;
mod services;
mod tls;
mod transfer;
mod views;
mod ws;
