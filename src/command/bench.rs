//! `sockmate bench ENDPOINT`: a load generator (echo, send, connect), and
//! `sockmate bench merge A.json B.json…`. The engine lives in
//! [`crate::bench`].

use super::Context;
pub use crate::bench::BenchConfig;

/// Runs the bench or the merge.
pub async fn run(cfg: BenchConfig, ctx: &Context) -> anyhow::Result<()> {
    crate::bench::run(cfg, ctx).await
}
