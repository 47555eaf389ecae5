//! End-to-end tests: the real `sockmate` binary against real sockets on
//! loopback and real peer tools (socat, ncat, OpenBSD nc, Python).
//!
//! The suite runs on a Unix host (it drives `sh`, socat, Python and
//! chromium). The Windows build is tested from here too: `.ci/windows.sh`
//! points `SOCKMATE_TEST_BIN` at a wrapper that runs `sockmate.exe` under
//! Wine and runs the tests listed in `tests/e2e/windows.list`. Built for a
//! Windows target (clippy's Windows leg) the suite is empty.
#![cfg(unix)]

mod util;

mod bench;
mod device;
mod docs;
mod echo_paths;
mod first_hour;
mod foundation;
mod halfclose;
mod interop;
mod json_schema;
mod layered_unix;
mod learn;
mod packaging;
mod pcap;
mod pictures;
mod ping;
mod platform;
mod proxy;
mod proxy_server;
mod proxy_server_limits;
mod regressions;
mod relay;
mod relay_eof;
mod replay;
mod robust;
mod scan;
mod seams_net;
mod seams_svc;
mod seams_ui;
mod seams_ws;
mod serial;
mod services;
mod sides;
mod tls;
mod transfer;
mod udp;
mod ui;
mod views;
mod ws;
mod ws_kinds;
