//! The transport seam on real loopback sockets: halves, half-close,
//! message boundaries, capabilities and the splice copy.

use std::sync::atomic::{AtomicU64, Ordering};

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::*;
use crate::endpoint::Endpoint;

/// Listens on `endpoint` (port 0 or a fresh path) and returns both ends of
/// one connection: (client, server).
async fn pair(endpoint: &str) -> (Stream, Stream) {
    pair_with(endpoint, SocketOptions::default()).await
}

/// [`pair`] with socket options (TLS, WebSocket).
async fn pair_with(endpoint: &str, opts: SocketOptions) -> (Stream, Stream) {
    let endpoint: Endpoint = endpoint.parse().expect("endpoint");
    let (listener, real) = listen(&endpoint, &opts).await.expect("listen");
    let Listener::Stream(listener) = listener else {
        panic!("{endpoint} is not a stream endpoint");
    };
    let (connected, accepted) = tokio::join!(connect(&real, &opts), listener.accept());
    let client = connected
        .expect("connect")
        .connection
        .into_stream()
        .expect("a stream");
    let (server, _peer) = accepted.expect("accept");
    (client, server)
}

fn unix_endpoint(dir: &tempfile::TempDir, scheme: &str) -> String {
    format!("{scheme}://{}", dir.path().join("s.sock").display())
}

/// Reads until `want` bytes arrived (or the stream ended).
async fn read_exactly(reader: &mut StreamReader, want: usize) -> Vec<u8> {
    let mut buf = BytesMut::new();
    while buf.len() < want {
        let left = want - buf.len();
        if reader.read_some(&mut buf, left).await.expect("read") == 0 {
            break;
        }
    }
    buf.to_vec()
}

async fn at_eof(reader: &mut StreamReader) -> bool {
    let mut buf = BytesMut::new();
    reader.read_some(&mut buf, 16).await.expect("read") == 0
}

/// Both directions through halves; ending one direction leaves the other
/// working.
async fn halves_carry_both_ways_and_half_close(client: Stream, server: Stream) {
    let (mut client_in, mut client_out) = client.into_split();
    let (mut server_in, mut server_out) = server.into_split();

    client_out.write_all(b"hello").await.expect("write");
    assert_eq!(read_exactly(&mut server_in, 5).await, b"hello");

    client_out.shutdown_write().await.expect("shutdown");
    assert!(at_eof(&mut server_in).await, "the peer sees end of stream");

    server_out
        .write_all(b"still here")
        .await
        .expect("write back");
    assert_eq!(read_exactly(&mut client_in, 10).await, b"still here");

    // The halves are AsyncRead/AsyncWrite too.
    AsyncWriteExt::write_all(&mut server_out, b"poll")
        .await
        .expect("poll write");
    let mut four = [0u8; 4];
    client_in.read_exact(&mut four).await.expect("poll read");
    assert_eq!(&four, b"poll");

    server_out.shutdown_write().await.expect("shutdown");
    assert!(at_eof(&mut client_in).await);
    // Shutting down twice is not an error.
    server_out.shutdown_write().await.expect("second shutdown");
}

#[tokio::test]
async fn tcp_halves_carry_both_ways_and_half_close() {
    let (client, server) = pair("tcp://127.0.0.1:0").await;
    halves_carry_both_ways_and_half_close(client, server).await;
}

/// Client options that accept the listener's generated certificate.
fn insecure() -> SocketOptions {
    SocketOptions {
        tls: std::sync::Arc::new(tls::TlsOptions {
            insecure: true,
            ..Default::default()
        }),
        ..SocketOptions::default()
    }
}

#[tokio::test]
async fn tls_halves_carry_both_ways_and_half_close_with_close_notify() {
    let (client, server) = pair_with("tls://127.0.0.1:0", insecure()).await;
    let info = client.tls_info().expect("client TLS facts");
    assert!(info.version.starts_with("TLSv1."), "{info:?}");
    assert_eq!(
        info.peer_subject.as_deref(),
        Some("CN=sockmate self-signed")
    );
    assert_eq!(info.peer_sha256.as_ref().map(String::len), Some(95));
    assert!(server
        .tls_info()
        .expect("server TLS facts")
        .peer_sha256
        .is_none());
    let want = Capabilities {
        half_close: true,
        message_boundaries: false,
        zero_copy: false,
    };
    assert_eq!((client.capabilities(), server.capabilities()), (want, want));
    halves_carry_both_ways_and_half_close(client, server).await;
}

#[tokio::test]
async fn ws_halves_keep_message_boundaries_and_frame_types() {
    let (client, server) = pair("ws://127.0.0.1:0/x").await;
    assert!(client.capabilities().message_boundaries);
    assert!(!client.capabilities().half_close);
    let (mut client_in, mut client_out) = client.into_split();
    let (mut server_in, mut server_out) = server.into_split();
    client_out.write_all(b"one").await.expect("write");
    client_out
        .write_message(b"second", Some(MessageKind::Text))
        .await
        .expect("write");
    let mut buf = BytesMut::new();
    let first = server_in.read_message(&mut buf, 1024).await.expect("read");
    assert_eq!(
        first,
        Some(Received {
            len: 3,
            kind: Some(MessageKind::Binary)
        })
    );
    let second = server_in.read_message(&mut buf, 1024).await.expect("read");
    assert_eq!(
        second,
        Some(Received {
            len: 6,
            kind: Some(MessageKind::Text)
        })
    );
    assert_eq!(&buf[..], b"onesecond");
    server_out.write_all(b"reply").await.expect("reply");
    let mut buf = BytesMut::new();
    assert_eq!(client_in.read_some(&mut buf, 1024).await.expect("read"), 5);
    // A close frame ends the peer's reads and is kept as the reason.
    client_out.shutdown_write().await.expect("close");
    assert!(at_eof(&mut server_in).await);
    assert_eq!(
        server_in.close_note().as_deref(),
        Some("websocket close 1000")
    );
}

#[tokio::test]
async fn unix_halves_carry_both_ways_and_half_close() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (client, server) = pair(&unix_endpoint(&dir, "unix")).await;
    halves_carry_both_ways_and_half_close(client, server).await;
}

#[tokio::test]
async fn seqpacket_halves_keep_message_boundaries_and_half_close() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (client, server) = pair(&unix_endpoint(&dir, "unix-seqpacket")).await;
    let (mut client_in, mut client_out) = client.into_split();
    let (mut server_in, mut server_out) = server.into_split();

    client_out.write_all(b"one").await.expect("write");
    client_out.write_all(b"second").await.expect("write");
    let mut buf = BytesMut::new();
    assert_eq!(server_in.read_some(&mut buf, 1024).await.expect("read"), 3);
    assert_eq!(server_in.read_some(&mut buf, 1024).await.expect("read"), 6);
    assert_eq!(&buf[..], b"onesecond");

    client_out.shutdown_write().await.expect("shutdown");
    assert!(at_eof(&mut server_in).await);

    server_out.write_all(b"reply").await.expect("reply");
    let mut buf = BytesMut::new();
    assert_eq!(client_in.read_some(&mut buf, 1024).await.expect("read"), 5);
    assert_eq!(&buf[..], b"reply");
}

/// Polls one read on a connection nobody writes to: it must wait without
/// keeping a read buffer.
async fn idle_read_holds_no_buffer(endpoint: &str) {
    let (_client, server) = pair_with(endpoint, insecure()).await;
    let (mut reader, _writer) = server.into_split();
    let mut buf = BytesMut::new();
    for _ in 0..3 {
        tokio::select! {
            biased;
            _ = reader.read_some(&mut buf, 64 * 1024) => panic!("nothing was sent"),
            () = tokio::task::yield_now() => {}
        }
        assert_eq!(buf.capacity(), 0, "{endpoint}");
    }
}

#[tokio::test]
async fn an_idle_reader_holds_no_buffer() {
    let dir = tempfile::tempdir().expect("tempdir");
    idle_read_holds_no_buffer("tcp://127.0.0.1:0").await;
    idle_read_holds_no_buffer(&unix_endpoint(&dir, "unix")).await;
    let dir = tempfile::tempdir().expect("tempdir");
    idle_read_holds_no_buffer(&unix_endpoint(&dir, "unix-seqpacket")).await;
    idle_read_holds_no_buffer("tls://127.0.0.1:0").await;
}

#[tokio::test]
async fn capabilities_per_kind() {
    let byte_stream = Capabilities {
        half_close: true,
        message_boundaries: false,
        zero_copy: true,
    };
    let seqpacket = Capabilities {
        half_close: true,
        message_boundaries: true,
        zero_copy: false,
    };
    let dir = tempfile::tempdir().expect("tempdir");
    for (endpoint, want) in [
        ("tcp://127.0.0.1:0".to_string(), byte_stream),
        (unix_endpoint(&dir, "unix"), byte_stream),
        (unix_endpoint(&dir, "unix-seqpacket"), seqpacket),
    ] {
        let (client, _server) = pair(&endpoint).await;
        assert_eq!(client.capabilities(), want, "{endpoint}");
        assert_eq!(
            client.keeps_message_boundaries(),
            want.message_boundaries,
            "{endpoint}"
        );
        let (reader, writer) = client.into_split();
        assert_eq!(reader.capabilities(), want, "{endpoint}");
        assert_eq!(writer.capabilities(), want, "{endpoint}");
        assert_eq!(splice::supports(&reader, &writer), want.zero_copy);
    }
}

#[tokio::test]
async fn splice_copies_a_mebibyte_exactly_between_two_tcp_pairs() {
    const SIZE: usize = 1024 * 1024;
    let data: Vec<u8> = (0..SIZE).map(|i| (i * 7 + i / 251) as u8).collect();
    let (source_client, source_server) = pair("tcp://127.0.0.1:0").await;
    let (sink_client, sink_server) = pair("tcp://127.0.0.1:0").await;
    let (_unused, mut source_out) = source_client.into_split();
    let (from, _from_out) = source_server.into_split();
    let (_to_in, mut to) = sink_client.into_split();
    let (mut sink_in, _sink_out) = sink_server.into_split();
    assert!(splice::supports(&from, &to));

    let moved = AtomicU64::new(0);
    let send = async {
        source_out.write_all(&data).await.expect("send");
        source_out.shutdown_write().await.expect("end");
    };
    let relay = async {
        let total = splice::copy(&from, &to, |n| {
            moved.fetch_add(n as u64, Ordering::Relaxed);
        })
        .await
        .expect("splice");
        to.shutdown_write().await.expect("carry the end");
        total
    };
    let receive = async {
        let mut got = Vec::with_capacity(SIZE);
        sink_in.read_to_end(&mut got).await.expect("receive");
        got
    };
    let ((), total, got) = tokio::join!(send, relay, receive);
    assert_eq!(total, SIZE as u64);
    assert_eq!(moved.load(Ordering::Relaxed), SIZE as u64);
    assert_eq!(got.len(), SIZE);
    assert!(got == data, "the bytes arrive unchanged");
}

#[tokio::test]
async fn splice_refuses_seqpacket() {
    let dir = tempfile::tempdir().expect("tempdir");
    let (client, _server) = pair(&unix_endpoint(&dir, "unix-seqpacket")).await;
    let (reader, writer) = client.into_split();
    let err = splice::copy(&reader, &writer, |_| {})
        .await
        .expect_err("seqpacket cannot be spliced");
    assert_eq!(err.kind(), std::io::ErrorKind::Unsupported);
}

#[tokio::test]
async fn errors_keep_their_kind_and_wording() {
    // Bind a port, then connect to it after closing it: refused.
    let (listener, real) = listen(
        &"tcp://127.0.0.1:0".parse().expect("endpoint"),
        &SocketOptions::default(),
    )
    .await
    .expect("listen");
    let taken = listen(&real, &SocketOptions::default())
        .await
        .expect_err("the port is taken");
    assert_eq!(taken.kind, NetErrorKind::AddrInUse);
    assert!(taken
        .message
        .starts_with("address in use: tcp://127.0.0.1:"));
    drop(listener);
    let refused = connect(&real, &SocketOptions::default())
        .await
        .expect_err("nothing listens");
    assert_eq!(refused.kind, NetErrorKind::Refused);
    assert_eq!(
        refused.message,
        format!(
            "connection refused by {real} (is anything listening on port {port}? start one with: sockmate listen {port})",
            port = real.host_port().map(|(_, p)| p).unwrap_or(0)
        )
    );
}

/// sendfile moves exactly the asked range (larger than a socket buffer, so
/// it has to wait for the reader), leaves the file position alone, fails
/// cleanly past the end of the file, and is refused on TLS.
#[tokio::test]
async fn send_file_moves_the_range_and_leaves_the_position() {
    use std::io::{Seek, Write};
    let dir = tempfile::tempdir().expect("tempdir");
    let data: Vec<u8> = (0..3_000_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let mut file = std::fs::File::create(dir.path().join("f")).expect("create");
    file.write_all(&data).expect("write");
    let file = std::fs::File::open(dir.path().join("f")).expect("open");
    for endpoint in ["tcp://127.0.0.1:0".to_string(), unix_endpoint(&dir, "unix")] {
        let (client, server) = pair(&endpoint).await;
        let (_r, writer) = client.into_split();
        let (mut reader, _w) = server.into_split();
        assert!(splice::can_send_file(&writer));
        let want = data.len() - 1001;
        let (sent, got) = tokio::join!(
            splice::send_file(&writer, &file, 1001, want),
            read_exactly(&mut reader, want)
        );
        sent.expect("send_file");
        assert!(got == data[1001..], "{endpoint}: the bytes differ");
        assert_eq!((&file).stream_position().expect("position"), 0);
        let past = splice::send_file(&writer, &file, data.len() as u64 - 10, 20).await;
        assert_eq!(
            past.expect_err("past the end").kind(),
            std::io::ErrorKind::UnexpectedEof
        );
    }
    let (client, _server) = pair_with("tls://127.0.0.1:0", insecure()).await;
    let (_r, writer) = client.into_split();
    assert!(!splice::can_send_file(&writer));
    let refused = splice::send_file(&writer, &file, 0, 10).await;
    assert_eq!(
        refused.expect_err("TLS").kind(),
        std::io::ErrorKind::Unsupported
    );
}
