//! Records what `sockmate version` reports about the build: the git commit
//! and its date, the target, the compiler, and the enabled cargo features.
//!
//! Every fact falls back to "unknown" when it cannot be found (no `git`, a
//! packaged source tree without `.git`, an unusual `RUSTC`), so the build
//! never fails for the sake of a version line.

use std::env;
use std::path::Path;
use std::process::Command;

/// What goes into the binary when a fact is not available.
const UNKNOWN: &str = "unknown";

fn main() {
    let manifest_dir = env::var("CARGO_MANIFEST_DIR").unwrap_or_else(|_| ".".into());
    let (commit, date) = git_commit(Path::new(&manifest_dir));
    emit("SOCKMATE_GIT_COMMIT", &commit);
    emit("SOCKMATE_GIT_DATE", &date);
    emit(
        "SOCKMATE_TARGET",
        &env::var("TARGET").unwrap_or_else(|_| UNKNOWN.into()),
    );
    emit("SOCKMATE_PROFILE", &profile());
    emit("SOCKMATE_RUSTC", &rustc_version());
    emit("SOCKMATE_FEATURES", &features());

    // Rerun when HEAD moves (a commit, a checkout) or the compiler changes;
    // nothing else here depends on the sources.
    rerun_on_git_change(Path::new(&manifest_dir));
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-env-changed=RUSTC");
}

/// Passes one `NAME=value` to the compiler as `env!("NAME")`.
fn emit(name: &str, value: &str) {
    // A newline would end the directive early.
    let value = value.replace(['\n', '\r'], " ");
    println!("cargo:rustc-env={name}={value}");
}

/// The output of a command, trimmed, if it ran and succeeded.
fn output(cmd: &mut Command) -> Option<String> {
    let out = cmd.output().ok()?;
    if !out.status.success() {
        return None;
    }
    let text = String::from_utf8(out.stdout).ok()?;
    let text = text.trim();
    (!text.is_empty()).then(|| text.to_string())
}

/// The short commit hash and the commit's date, or "unknown" for both
/// outside a git checkout. (No `-dirty` mark: this script reruns only when
/// HEAD moves, so such a mark would go stale.)
fn git_commit(dir: &Path) -> (String, String) {
    let git = |args: &[&str]| output(Command::new("git").arg("-C").arg(dir).args(args));
    let Some(hash) = git(&["rev-parse", "--short=12", "HEAD"]) else {
        return (UNKNOWN.into(), UNKNOWN.into());
    };
    let date = git(&["log", "-1", "--format=%cs", "HEAD"]).unwrap_or_else(|| UNKNOWN.into());
    (hash, date)
}

/// The cargo profile the binary was built with (`release`, `debug`, …),
/// taken from the output directory's name as cargo exposes no variable for it.
fn profile() -> String {
    let out_dir = env::var("OUT_DIR").unwrap_or_default();
    // OUT_DIR is target[/TRIPLE]/PROFILE/build/sockmate-HASH/out.
    Path::new(&out_dir)
        .ancestors()
        .nth(3)
        .and_then(|p| p.file_name())
        .and_then(|n| n.to_str())
        .unwrap_or(UNKNOWN)
        .to_string()
}

/// `rustc -vV`'s release line plus commit hash, e.g. `1.95.0 (59807616e 2026-04-14)`.
fn rustc_version() -> String {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let Some(text) = output(Command::new(rustc).arg("-vV")) else {
        return UNKNOWN.into();
    };
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key))
            .map(|v| v.trim().to_string())
    };
    match (
        field("release:"),
        field("commit-hash:"),
        field("commit-date:"),
    ) {
        (Some(release), Some(hash), Some(date)) if hash != UNKNOWN => {
            format!("{release} ({} {date})", &hash[..hash.len().min(9)])
        }
        (Some(release), _, _) => release,
        _ => UNKNOWN.into(),
    }
}

/// The enabled cargo features, comma-separated, or "none".
fn features() -> String {
    let mut names: Vec<String> = env::vars()
        .filter_map(|(k, _)| k.strip_prefix("CARGO_FEATURE_").map(str::to_string))
        .map(|n| n.to_lowercase().replace('_', "-"))
        .collect();
    names.sort();
    if names.is_empty() {
        "none".into()
    } else {
        names.join(",")
    }
}

/// Asks cargo to rerun this script when the checked-out commit changes.
fn rerun_on_git_change(dir: &Path) {
    let Some(git_dir) = output(
        Command::new("git")
            .arg("-C")
            .arg(dir)
            .args(["rev-parse", "--absolute-git-dir"]),
    ) else {
        return;
    };
    let git_dir = Path::new(&git_dir);
    let head = git_dir.join("HEAD");
    println!("cargo:rerun-if-changed={}", head.display());
    // HEAD names a branch: its ref file moves with each commit. In a worktree
    // the ref lives in the common directory, or in packed-refs.
    if let Ok(text) = std::fs::read_to_string(&head) {
        if let Some(r) = text.trim().strip_prefix("ref: ") {
            let common = output(
                Command::new("git")
                    .arg("-C")
                    .arg(dir)
                    .args(["rev-parse", "--git-common-dir"]),
            )
            .map(|c| {
                let c = Path::new(&c);
                if c.is_absolute() {
                    c.to_path_buf()
                } else {
                    dir.join(c)
                }
            })
            .unwrap_or_else(|| git_dir.to_path_buf());
            for base in [git_dir, common.as_path()] {
                let file = base.join(r);
                if file.exists() {
                    println!("cargo:rerun-if-changed={}", file.display());
                }
            }
            let packed = common.join("packed-refs");
            if packed.exists() {
                println!("cargo:rerun-if-changed={}", packed.display());
            }
        }
    }
}
