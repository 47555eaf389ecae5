//! The terminal: stdin as a channel, what stdout and stderr show, the console, live counters, progress.

pub mod bench_view;
pub mod console;
pub mod live_stats;
pub mod output;
pub mod print;
pub mod stdin;
pub mod stdin_reader;
pub mod transfer_view;
pub mod wait_note;
