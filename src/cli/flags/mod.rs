//! Flag groups shared by several commands and how argv becomes them: endpoints after clap, durations, TLS, services, proxies, profiles, and the usage errors they give.

pub mod args;
pub mod argv;
pub mod end_args;
pub mod profile;
pub mod proxy_serve_args;
pub mod serve_args;
pub mod tls_args;
pub mod usage_error;
pub mod zone;
