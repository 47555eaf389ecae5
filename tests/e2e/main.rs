//! End-to-end tests: the real `sockmate` binary against real sockets on
//! loopback and real peer tools (socat, ncat, OpenBSD nc, Python).

mod util;

mod bench;
mod device;
mod docs;
mod foundation;
mod halfclose;
mod interop;
mod learn;
mod packaging;
mod proxy;
mod regressions;
mod relay;
mod relay_eof;
mod robust;
mod scan;
mod serial;
mod services;
mod tls;
mod transfer;
mod udp;
mod ui;
mod views;
mod ws;
