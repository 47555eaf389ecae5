//! The `sockmate` binary: everything is in the command-line front-end,
//! [`sockmate::cli`].

fn main() -> std::process::ExitCode {
    sockmate::cli::main()
}
