//! File transfer: a small versioned header per file ([`header`]), a sender
//! and a receiver that overlap file I/O and hashing with the socket
//! ([`stages`], [`outgoing`]), atomic storage with resume ([`receiver`], [`store`]), bare-bytes mode
//! compatible with nc ([`raw`]), and the [`observer`] a front-end gives to
//! see progress (the transfer never prints).

pub mod config;
pub mod digest;
pub mod error;
pub mod gate;
pub mod header;
pub mod observer;
pub mod outgoing;
pub mod raw;
pub mod receiver;
pub mod sender;
pub mod stages;
pub mod store;
pub mod wire;
