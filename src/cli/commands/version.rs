//! `sockmate version` and `sockmate -V --verbose`: what this binary is and
//! how it was built. `sockmate -V`/`--version` stays clap's one line.
//!
//! The build facts come from `build.rs` (git, `rustc -vV`, cargo's
//! environment) as compile-time environment variables; each one is
//! "unknown" when the build could not find it (for example a source tree
//! without `.git`).

use std::ffi::OsString;
/// The flag that asks for the long form next to `-V`/`--version`.
pub const VERBOSE_FLAG: &str = "--verbose";

/// How this binary was built, as recorded by `build.rs`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuildInfo {
    /// The crate version, e.g. `0.1.0`.
    pub version: &'static str,
    /// The short git commit hash, or "unknown".
    pub commit: &'static str,
    /// The commit's date (`YYYY-MM-DD`), or "unknown".
    pub commit_date: &'static str,
    /// The target triple the binary was compiled for.
    pub target: &'static str,
    /// The cargo profile (`release`, `debug`, `profiling`, …).
    pub profile: &'static str,
    /// The compiler's version, e.g. `1.95.0 (59807616e 2026-04-14)`.
    pub rustc: &'static str,
    /// The enabled cargo features, comma-separated, or "none".
    pub features: &'static str,
}

/// The facts of this build.
pub const BUILD: BuildInfo = BuildInfo {
    version: env!("CARGO_PKG_VERSION"),
    commit: env!("SOCKMATE_GIT_COMMIT"),
    commit_date: env!("SOCKMATE_GIT_DATE"),
    target: env!("SOCKMATE_TARGET"),
    profile: env!("SOCKMATE_PROFILE"),
    rustc: env!("SOCKMATE_RUSTC"),
    features: env!("SOCKMATE_FEATURES"),
};

impl BuildInfo {
    /// The one-line form, as `sockmate --version` prints it.
    pub fn short(&self) -> String {
        format!("sockmate {}", self.version)
    }

    /// The long form: the short line, then one `key: value` line per fact.
    pub fn long(&self) -> String {
        format!(
            "{}\ncommit:   {} ({})\ntarget:   {}\nprofile:  {}\nrustc:    {}\nfeatures: {}\n",
            self.short(),
            self.commit,
            self.commit_date,
            self.target,
            self.profile,
            self.rustc,
            self.features,
        )
    }
}

/// Turns `sockmate -V --verbose` (in either order, `--version` too) into
/// `sockmate version`, since clap answers `-V` as soon as it sees it. Any
/// other command line is returned unchanged.
pub fn expand_verbose_flag(args: Vec<OsString>) -> Vec<OsString> {
    let Some((program, rest)) = args.split_first() else {
        return args;
    };
    let is_version = |a: &OsString| a == "-V" || a == "--version";
    let only_version_flags = rest.iter().all(|a| is_version(a) || a == VERBOSE_FLAG);
    if only_version_flags && rest.iter().any(is_version) && rest.iter().any(|a| a == VERBOSE_FLAG) {
        return vec![program.clone(), "version".into()];
    }
    args
}

/// Prints the long form on stdout.
pub fn run() -> anyhow::Result<()> {
    crate::cli::print::stdout_all(BUILD.long().as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<OsString> {
        list.iter().map(OsString::from).collect()
    }

    #[test]
    fn verbose_version_flags_become_the_version_command() {
        for line in [
            &["sockmate", "-V", "--verbose"][..],
            &["sockmate", "--verbose", "-V"],
            &["sockmate", "--version", "--verbose"],
        ] {
            assert_eq!(
                expand_verbose_flag(args(line)),
                args(&["sockmate", "version"])
            );
        }
    }

    #[test]
    fn other_command_lines_are_untouched() {
        for line in [
            &["sockmate", "-V"][..],
            &["sockmate", "--verbose"],
            &["sockmate", "listen", "-V", "--verbose"],
            &["sockmate", "connect", "1:2", "--verbose"],
            &["sockmate"],
        ] {
            assert_eq!(expand_verbose_flag(args(line)), args(line));
        }
    }

    #[test]
    fn long_form_has_one_line_per_fact() {
        let long = BUILD.long();
        assert!(long.starts_with(&BUILD.short()));
        for key in ["commit:", "target:", "profile:", "rustc:", "features:"] {
            assert_eq!(
                long.lines().filter(|l| l.starts_with(key)).count(),
                1,
                "{key}"
            );
        }
        assert!(!BUILD.target.is_empty());
    }
}
