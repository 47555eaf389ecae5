//! File transfer: a small versioned header per file ([`header`]), a sender
//! and a receiver that overlap file I/O and hashing with the socket
//! ([`stages`]), atomic storage with resume ([`receiver`]), bare-bytes mode
//! compatible with nc ([`raw`]), and progress display ([`progress`]).

pub mod config;
pub mod header;
pub mod progress;
pub mod raw;
pub mod receiver;
pub mod sender;
pub mod stages;
pub mod wire;
