//! File transfer: a small versioned header per file ([`header`]), a sender
//! and a receiver that overlap file I/O and hashing with the socket
//! ([`stages`], [`outgoing`]), atomic storage with resume ([`receiver`], [`store`]), bare-bytes mode
//! compatible with nc ([`raw`]), and the [`observer`] a front-end gives to
//! see progress (the transfer never prints).

pub mod config;
#[doc(hidden)]
pub mod digest;
pub mod error;
#[doc(hidden)]
pub mod gate;
#[doc(hidden)]
pub mod header;
#[doc(hidden)]
pub mod observer;
#[doc(hidden)]
pub mod outgoing;
#[doc(hidden)]
pub mod raw;
#[doc(hidden)]
pub mod receiver;
#[doc(hidden)]
pub mod sender;
#[doc(hidden)]
pub mod stages;
#[doc(hidden)]
pub mod store;
#[doc(hidden)]
pub mod wire;
