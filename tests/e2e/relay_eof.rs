//! The half-close matrix through `relay`: direction (client → target,
//! target → client) × the other direction (idle, stalled by backpressure,
//! already ended) × the copy path (splice, `--no-splice`). In every case the
//! data arrives whole, then its end, and the other direction is unharmed.

use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};

use crate::util::*;

#[derive(Clone, Copy, Debug)]
enum Other {
    Idle,
    Stalled,
    Ended,
}

const CHUNKS: [&[u8]; 4] = [
    b"first piece\n",
    b"second, longer piece\n",
    b"\x00\xff bin\n",
    b"last",
];

/// Bytes sent the other way, more than the socket buffers on the path hold.
const STALL_BYTES: usize = 16 * 1024 * 1024;

fn read_all(stream: &mut TcpStream) -> Vec<u8> {
    stream.set_read_timeout(Some(DEADLINE)).unwrap();
    let mut got = Vec::new();
    stream.read_to_end(&mut got).expect("read to the end");
    got
}

fn run_case(client_sends: bool, other: Other, splice: bool) {
    let target = TcpListener::bind("127.0.0.1:0").unwrap();
    let target_addr = target.local_addr().unwrap().to_string();
    let mut args = vec!["relay", "127.0.0.1:0", &target_addr, "-q"];
    if !splice {
        args.push("--no-splice");
    }
    let mut relay = Proc::spawn(sockmate(&args));
    let addr = relay.listening_addr();
    let client = TcpStream::connect(&addr).unwrap();
    let (server, _) = target.accept().unwrap();
    let (mut sender, mut receiver) = if client_sends {
        (client, server)
    } else {
        (server, client)
    };
    let case = format!("client_sends={client_sends} other={other:?} splice={splice}");
    // The other direction: receiver → sender.
    let stall = match other {
        Other::Idle => None,
        Other::Ended => {
            receiver.shutdown(Shutdown::Write).unwrap();
            assert!(read_all(&mut sender).is_empty(), "{case}: other end first");
            None
        }
        Other::Stalled => {
            let mut writer = receiver.try_clone().unwrap();
            Some(std::thread::spawn(move || {
                let data = vec![b's'; STALL_BYTES];
                let _ = writer.write_all(&data);
                let _ = writer.shutdown(Shutdown::Write);
            }))
        }
    };
    for chunk in CHUNKS {
        if let Err(e) = sender.write_all(chunk) {
            panic!("{case}: {e}; relay said {:?}", relay.drain_stderr());
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    sender.shutdown(Shutdown::Write).unwrap();
    assert_eq!(read_all(&mut receiver), CHUNKS.concat(), "{case}");
    if let Some(stall) = stall {
        // Only now does the stalled direction get read: whole, then its end.
        assert_eq!(
            read_all(&mut sender).len(),
            STALL_BYTES,
            "{case}: stalled way"
        );
        stall.join().unwrap();
    }
    drop((sender, receiver));
    relay.signal("TERM");
    relay.wait();
}

#[test]
fn relay_half_close_matrix() {
    for splice in [true, false] {
        for client_sends in [true, false] {
            for other in [Other::Idle, Other::Stalled, Other::Ended] {
                run_case(client_sends, other, splice);
            }
        }
    }
}
