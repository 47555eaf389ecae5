//! `--stats`: byte and message counters per connection and in total,
//! printed on stderr when the command ends.

use std::io::{self, Write};

use super::printer::peer_label;
use super::Sink;
use crate::event::{ConnInfo, Counters, Event, EventKind};

/// Most connections listed one by one; the total always counts them all.
pub const MAX_LISTED: usize = 1000;

/// Collects counters from `Close` events.
#[derive(Default)]
pub struct Stats {
    rows: Vec<(ConnInfo, Counters)>,
    total: Counters,
    connections: u64,
}

impl Stats {
    /// An empty collector.
    pub fn new() -> Self {
        Stats::default()
    }

    /// The table as text.
    pub fn render(&self) -> String {
        let mut s = format!(
            "{:<6} {:<28} {:>12} {:>12} {:>9} {:>9}\n",
            "conn", "peer", "bytes in", "bytes out", "msgs in", "msgs out"
        );
        for (conn, c) in &self.rows {
            s.push_str(&format!(
                "{:<6} {:<28} {:>12} {:>12} {:>9} {:>9}\n",
                format!("#{}", conn.id),
                peer_label(conn),
                c.bytes_in,
                c.bytes_out,
                c.msgs_in,
                c.msgs_out
            ));
        }
        let t = &self.total;
        s.push_str(&format!(
            "{:<6} {:<28} {:>12} {:>12} {:>9} {:>9}\n",
            "total",
            format!("{} connection(s)", self.connections),
            t.bytes_in,
            t.bytes_out,
            t.msgs_in,
            t.msgs_out
        ));
        s
    }
}

impl Sink for Stats {
    fn handle(&mut self, event: &Event) -> io::Result<()> {
        if let EventKind::Close { conn, counters, .. } = &event.kind {
            self.total.add(counters);
            self.connections += 1;
            if self.rows.len() < MAX_LISTED {
                self.rows.push((conn.clone(), *counters));
            }
        }
        Ok(())
    }

    fn finish(&mut self) -> io::Result<()> {
        let mut err = io::stderr().lock();
        writeln!(err, "stats:")?;
        err.write_all(self.render().as_bytes())
    }
}
