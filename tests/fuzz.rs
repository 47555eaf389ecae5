//! The fuzz targets' properties (`fuzz/checks.rs`) over the committed seed
//! corpus (`fuzz/corpus/TARGET/`) and mutations of it, without libFuzzer:
//! nightly-free and quick. Each `cargo test` runs the seeds and a few
//! hundred mutations per target; `SOCKMATE_FUZZ_SECS=N` runs mutations for
//! about N seconds over all targets (`.ci/run` does). A failing input is
//! saved under `target/fuzz-failures/` and printed in hex. libFuzzer digs
//! deeper: `cd fuzz && RUSTC_BOOTSTRAP=1 cargo fuzz run TARGET`.

#[path = "../fuzz/checks.rs"]
mod checks;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Mutations per target when no time budget is given.
const DEFAULT_MUTATIONS: usize = 300;

/// Small deterministic pseudo-random numbers (xorshift64).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that often matter to these parsers.
const TOKENS: &[&[u8]] = &[
    b"://",
    b"tcp://",
    b"udp://",
    b"unix://",
    b"[::1]",
    b":0",
    b"=>",
    b"re:",
    b"hex:",
    b"{",
    b"}",
    b"{{",
    b"{text}",
    b"{hex}",
    b"{len}",
    b"{n}",
    b"$1",
    b"${x}",
    b"\\x",
    b"\\",
    b"\n",
    b"\r\n",
    b"\xff\x00",
    b"\x00\x00",
    b"\xff\xff\xff\xff",
    b"-",
    b",",
    b"65535",
    b"SMT1",
    b"..",
    b"/",
    b"%",
    b"(",
    b")",
    b"*",
    b"+",
];

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut data = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(4) {
        let at = rng.below(data.len() + 1);
        match rng.below(7) {
            0 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
            1 => data.insert(at, rng.next() as u8),
            2 if at < data.len() => {
                let end = (at + 1 + rng.below(8)).min(data.len());
                data.drain(at..end);
            }
            3 => {
                let token = TOKENS[rng.below(TOKENS.len())];
                data.splice(at..at, token.iter().copied());
            }
            4 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len() + 1);
                data.splice(at..at, other[from..].iter().copied());
            }
            5 if at < data.len() => {
                let end = (at + 1 + rng.below(16)).min(data.len());
                let copy = data[at..end].to_vec();
                data.splice(at..at, copy);
            }
            _ => data.truncate(at),
        }
    }
    data.truncate(4096);
    data
}

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/corpus")
        .join(target);
    let mut seeds: Vec<Vec<u8>> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("no seed corpus at {}: {e}", dir.display()))
        .filter_map(|entry| std::fs::read(entry.ok()?.path()).ok())
        .collect();
    assert!(!seeds.is_empty(), "empty seed corpus at {}", dir.display());
    seeds.sort();
    seeds
}

/// Runs `check` on `data`; on a panic saves the input and fails with it.
fn run_one(target: &str, check: fn(&[u8]), data: &[u8]) {
    if std::panic::catch_unwind(|| check(data)).is_err() {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join(format!("{target}-{:016x}", fxhash(data)));
        let _ = std::fs::write(&path, data);
        let hex: String = data.iter().map(|b| format!("{b:02x}")).collect();
        panic!(
            "fuzz target {target} failed on {hex} (saved as {})",
            path.display()
        );
    }
}

fn fxhash(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf29ce484222325u64, |h, &b| {
        (h ^ b as u64).wrapping_mul(0x100000001b3)
    })
}

#[test]
fn fuzz_targets_hold_on_their_corpus_and_its_mutations() {
    let budget = std::env::var("SOCKMATE_FUZZ_SECS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .map(Duration::from_secs_f64);
    let per_target = budget.map(|b| b / checks::TARGETS.len() as u32);
    for (i, (target, check)) in checks::TARGETS.iter().enumerate() {
        let seeds = corpus(target);
        for seed in &seeds {
            run_one(target, *check, seed);
        }
        let mut rng = Rng(0x9e3779b97f4a7c15 ^ (i as u64 + 1));
        let started = Instant::now();
        let mut runs = 0usize;
        loop {
            let done = match per_target {
                Some(limit) => started.elapsed() >= limit,
                None => runs >= DEFAULT_MUTATIONS,
            };
            if done {
                break;
            }
            run_one(target, *check, &mutate(&mut rng, &seeds));
            runs += 1;
        }
        if budget.is_some() {
            eprintln!("fuzz {target}: {} seeds, {runs} mutations", seeds.len());
        }
    }
}
