//! `file:PATH`: what comes in is written to the file (created or
//! truncated; appended to with `?append`) and nothing is sent: the side
//! ends once its writes do. `file:PATH?read` sends the file's contents,
//! then ends, and refuses what comes in.

use std::io;
use std::path::Path;

use tokio::sync::oneshot;

use super::{EndsWithWrites, Opened, Parts, Refuses};
use crate::endpoint::local::FileMode;
use crate::transport::PeerAddr;

/// Opens the file as `mode` says.
pub(super) async fn open(path: &Path, mode: FileMode) -> io::Result<Opened> {
    let shown = path.display().to_string();
    let fail = |e: io::Error| io::Error::new(e.kind(), format!("cannot open file {shown}: {e}"));
    let mut options = tokio::fs::OpenOptions::new();
    match mode {
        FileMode::Read => options.read(true),
        FileMode::Write => options.write(true).create(true).truncate(true),
        FileMode::Append => options.append(true).create(true),
    };
    let file = options.open(path).await.map_err(fail)?;
    let parts = match mode {
        FileMode::Read => Parts::new(
            Box::pin(file),
            Box::pin(Refuses(format!(
                "file:{shown}?read only sends the file; it takes no data (write to file:{shown} instead)"
            ))),
        ),
        FileMode::Write | FileMode::Append => {
            let (ended, end) = oneshot::channel();
            let mut parts = Parts::new(Box::pin(EndsWithWrites(end)), Box::pin(file));
            parts.ended = Some(ended);
            parts
        }
    };
    Ok(Opened {
        stream: parts.build(),
        local: "file".into(),
        peer: PeerAddr::Device(path.to_path_buf()),
        note: None,
    })
}
