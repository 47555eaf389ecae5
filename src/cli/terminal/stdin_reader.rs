//! Standard input as a byte channel for `connect` and `listen`: the
//! transport's one stdin reader (a thread, a bounded channel, warm
//! buffers), with the chunk size the command line reads in.

pub use crate::transport::local::stdio::spawn_stdin_reader;

/// Size of one stdin read: at least 64 KiB so bulk data moves in big chunks.
pub const STDIN_CHUNK: usize = 128 * 1024;
