//! The commands: one file per subcommand with its flags, their conversion into an engine config, its `run` and the tests of its flags.

pub mod bench;
pub mod completions;
pub mod connect;
pub mod listen;
pub mod man;
pub mod ping;
pub mod relay;
pub mod replay;
pub mod scan;
pub mod transfer;
pub mod ui_cmd;
pub mod version;
