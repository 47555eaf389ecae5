//! The `sockmate` binary: everything is in the command-line front-end,
//! [`sockmate::cli`]. On Linux with glibc it runs on the allocator of
//! `large_blocks`.

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod large_blocks;

#[cfg(all(target_os = "linux", target_env = "gnu"))]
#[global_allocator]
static ALLOCATOR: large_blocks::LineAligned = large_blocks::LineAligned;

fn main() -> std::process::ExitCode {
    sockmate::cli::main()
}
