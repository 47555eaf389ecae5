#!/usr/bin/env python3
"""RFC 6455 conformance of a WebSocket echo server, after the Autobahn
fuzzingclient case groups (performance and compression aside): 1 framing,
2 pings/pongs, 3 reserved bits, 4 opcodes, 5 fragmentation, 6 UTF-8
(a representative subset), 7 close handling, 9 limits (at sizes up to
1 MiB), 10 misc, and H (the handshake: a bad one gets HTTP 400).

Usage: ws_conformance.py HOST:PORT [CASE-PREFIX]
Prints one line per failed case and a summary "N cases, P passed, F failed";
exits 0 only when none failed. Raw sockets, Python 3 standard library only;
every case is bounded in time (a deadline per read) and in bytes.
"""

import base64
import hashlib
import os
import socket
import struct
import sys
import time

TIMEOUT = 5.0
GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


class Fail(Exception):
    pass


class Conn:
    def __init__(self, addr, path="/"):
        host, port = addr.rsplit(":", 1)
        self.sock = socket.create_connection((host, int(port)), timeout=TIMEOUT)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        key = base64.b64encode(os.urandom(16))
        self.sock.sendall(
            b"GET " + path.encode() + b" HTTP/1.1\r\nHost: " + addr.encode()
            + b"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            + b"Sec-WebSocket-Key: " + key + b"\r\nSec-WebSocket-Version: 13\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise Fail("handshake: closed before the response")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        if not head.startswith(b"HTTP/1.1 101"):
            raise Fail("handshake: %r" % head.split(b"\r\n")[0])
        want = base64.b64encode(hashlib.sha1(key + GUID).digest())
        if b"sec-websocket-accept: " + want.lower() not in head.lower():
            raise Fail("handshake: wrong Sec-WebSocket-Accept")

    def send(self, data, chop=None):
        if chop is None:
            self.sock.sendall(data)
        else:
            for i in range(0, len(data), chop):
                self.sock.sendall(data[i:i + chop])

    def frame(self, opcode, payload=b"", fin=True, rsv=0, chop=None):
        self.send(encode(opcode, payload, fin, rsv), chop)

    def _read(self, n, deadline):
        while len(self.buf) < n:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail("timed out waiting for the server")
            self.sock.settimeout(left)
            try:
                chunk = self.sock.recv(1 << 20)
            except socket.timeout:
                raise Fail("timed out waiting for the server")
            except ConnectionResetError:
                chunk = b""
            if not chunk:
                return None
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def read_frame(self, timeout=TIMEOUT):
        """(fin, rsv, opcode, payload), or None when the TCP connection ends."""
        deadline = time.monotonic() + timeout
        head = self._read(2, deadline)
        if head is None:
            return None
        b0, b1 = head
        if b1 & 0x80:
            raise Fail("the server masked a frame")
        n = b1 & 0x7F
        if n == 126:
            n = struct.unpack(">H", self._read(2, deadline))[0]
        elif n == 127:
            n = struct.unpack(">Q", self._read(8, deadline))[0]
        payload = self._read(n, deadline) if n else b""
        if payload is None:
            raise Fail("connection ended inside a frame")
        return (bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0x0F, payload)

    def read_message(self, timeout=TIMEOUT):
        """('text'|'binary'|'ping'|'pong'|'close', payload) or None at EOF."""
        kind, parts = None, []
        while True:
            f = self.read_frame(timeout)
            if f is None:
                return None
            fin, rsv, op, payload = f
            if rsv:
                raise Fail("the server set reserved bits")
            if op >= 8:
                return ({8: "close", 9: "ping", 10: "pong"}.get(op, "op%d" % op), payload)
            if op in (1, 2):
                kind = "text" if op == 1 else "binary"
            parts.append(payload)
            if fin:
                return (kind, b"".join(parts))

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def encode(opcode, payload=b"", fin=True, rsv=0):
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    n = len(payload)
    if n < 126:
        head = struct.pack(">BB", b0, 0x80 | n)
    elif n < 65536:
        head = struct.pack(">BBH", b0, 0x80 | 126, n)
    else:
        head = struct.pack(">BBQ", b0, 0x80 | 127, n)
    mask = os.urandom(4)
    masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload)) if n < 4096 else xor(payload, mask)
    return head + mask + masked


def xor(payload, mask):
    key = (mask * (len(payload) // 4 + 1))[:len(payload)]
    return (int.from_bytes(payload, "big") ^ int.from_bytes(key, "big")).to_bytes(len(payload), "big")


def close_payload(code, reason=b""):
    return struct.pack(">H", code) + reason


# --- expectations ---------------------------------------------------------

def expect(c, kind, payload=None):
    got = c.read_message()
    if got is None:
        raise Fail("connection closed, wanted %s" % kind)
    if got[0] != kind or (payload is not None and got[1] != payload):
        raise Fail("wanted %s %s, got %s %s" % (kind, short(payload), got[0], short(got[1])))


def short(b):
    if b is None:
        return ""
    return repr(b[:20]) + ("…(%d bytes)" % len(b) if len(b) > 20 else "")


def expect_clean_close(c, codes=(1000,)):
    """We close with 1000 (unless already sent): the server answers with a
    close frame and ends the TCP connection."""
    c.frame(8, close_payload(1000))
    expect_closed_by_server(c, codes, sent_close=True)


def expect_closed_by_server(c, codes, sent_close=False):
    """The server sends a close frame whose code is in `codes` (or an empty
    one when `codes` holds None), then ends the TCP connection."""
    while True:
        got = c.read_message()
        if got is None:
            raise Fail("TCP closed without a close frame (the client sees 1006)")
        if got[0] in ("pong",):
            continue
        if got[0] != "close":
            raise Fail("wanted close %s, got %s %s" % (codes, got[0], short(got[1])))
        code = struct.unpack(">H", got[1][:2])[0] if len(got[1]) >= 2 else None
        if code not in codes:
            raise Fail("close code %s, wanted one of %s" % (code, codes))
        break
    if not sent_close:
        c.frame(8, got[1][:2])
    try:
        rest = c.read_frame(timeout=TIMEOUT)
    except Fail as e:
        raise Fail("after the close frames: %s" % e)
    if rest is not None:
        raise Fail("a frame after the close frame: opcode %d" % rest[2])


def expect_fail(c, codes=(1002,)):
    expect_closed_by_server(c, codes)


# --- cases ----------------------------------------------------------------

CASES = []


def case(cid, desc):
    def deco(fn):
        CASES.append((cid, desc, fn))
        return fn
    return deco


def echo_case(cid, desc, frames, want, chop=None):
    """Sends `frames` [(opcode, payload, fin)], expects `want` [(kind, payload)]
    in order, then a clean close."""
    def run(c):
        data = b"".join(encode(op, p, fin) for op, p, fin in frames)
        c.send(data, chop)
        for kind, payload in want:
            expect(c, kind, payload)
        expect_clean_close(c)
    CASES.append((cid, desc, run))


def fail_case(cid, desc, frames, want=(), codes=(1002,), chop=None):
    """Sends `frames` [(opcode, payload, fin, rsv)], expects the messages of
    `want` and then a close frame with one of `codes`."""
    def run(c):
        data = b"".join(encode(op, p, fin, rsv) for op, p, fin, rsv in frames)
        c.send(data, chop)
        for kind, payload in want:
            expect(c, kind, payload)
        expect_fail(c, codes)
    CASES.append((cid, desc, run))


# 1 framing
for i, n in enumerate([0, 125, 126, 127, 128, 65535, 65536], 1):
    echo_case("1.1.%d" % i, "text %d bytes" % n, [(1, b"*" * n, True)], [("text", b"*" * n)])
    echo_case("1.2.%d" % i, "binary %d bytes" % n, [(2, b"\xfe" * n, True)], [("binary", b"\xfe" * n)])
echo_case("1.1.8", "text 65536 bytes in 997-byte chops", [(1, b"*" * 65536, True)], [("text", b"*" * 65536)], chop=997)
echo_case("1.2.8", "binary 65536 bytes in 997-byte chops", [(2, b"\xfe" * 65536, True)], [("binary", b"\xfe" * 65536)], chop=997)

# 2 pings and pongs
echo_case("2.1", "ping, no payload", [(9, b"", True)], [("pong", b"")])
echo_case("2.2", "ping, text payload", [(9, b"Hello, world!", True)], [("pong", b"Hello, world!")])
echo_case("2.3", "ping, binary payload", [(9, b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff", True)], [("pong", b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff")])
echo_case("2.4", "ping, 125 bytes", [(9, b"\xfe" * 125, True)], [("pong", b"\xfe" * 125)])
fail_case("2.5", "ping, 126 bytes", [(9, b"\xfe" * 126, True, 0)])
echo_case("2.6", "ping, 125 bytes in 1-byte chops", [(9, b"\xfe" * 125, True)], [("pong", b"\xfe" * 125)], chop=1)
echo_case("2.7", "unsolicited pong, no payload", [(10, b"", True)], [])
echo_case("2.8", "unsolicited pong, payload", [(10, b"unsolicited", True)], [])
echo_case("2.9", "unsolicited pong, then ping", [(10, b"unsolicited", True), (9, b"sol", True)], [("pong", b"sol")])
echo_case("2.10", "10 pings", [(9, b"p%d" % i, True) for i in range(10)], [("pong", b"p%d" % i) for i in range(10)])
echo_case("2.11", "10 pings in 1-byte chops", [(9, b"p%d" % i, True) for i in range(10)], [("pong", b"p%d" % i) for i in range(10)], chop=1)

# 3 reserved bits
fail_case("3.1", "RSV1 on text", [(1, b"Hello", True, 1)])
fail_case("3.2", "text, RSV2 on text, ping", [(1, b"ok", True, 0), (1, b"Hello", True, 2), (9, b"", True, 0)], want=[("text", b"ok")])
fail_case("3.3", "text, RSV3 on text, ping", [(1, b"ok", True, 0), (1, b"Hello", True, 4), (9, b"", True, 0)], want=[("text", b"ok")])
fail_case("3.4", "RSV1+2 on text", [(1, b"Hello", True, 3)])
fail_case("3.5", "RSV1+3 on binary", [(2, b"\x00\xff", True, 5)])
fail_case("3.6", "RSV2+3 on ping", [(9, b"Hello", True, 6)])
fail_case("3.7", "all RSV on close", [(8, close_payload(1000), True, 7)])

# 4 opcodes
for i, op in enumerate([3, 4, 5, 6, 7], 1):
    fail_case("4.1.%d" % i, "reserved data opcode %d" % op, [(1, b"ok", True, 0), (op, b"x" * (i - 1), True, 0), (9, b"", True, 0)], want=[("text", b"ok")])
for i, op in enumerate([11, 12, 13, 14, 15], 1):
    fail_case("4.2.%d" % i, "reserved control opcode %d" % op, [(1, b"ok", True, 0), (op, b"x" * (i - 1), True, 0), (9, b"", True, 0)], want=[("text", b"ok")])

# 5 fragmentation
fail_case("5.1", "ping in 2 fragments", [(9, b"frag1", False, 0), (0, b"frag2", True, 0)])
fail_case("5.2", "pong in 2 fragments", [(10, b"frag1", False, 0), (0, b"frag2", True, 0)])
echo_case("5.3", "text in 2 fragments", [(1, b"frag1", False), (0, b"frag2", True)], [("text", b"frag1frag2")])
echo_case("5.4", "text in 2 fragments, 1-byte chops", [(1, b"frag1", False), (0, b"frag2", True)], [("text", b"frag1frag2")], chop=1)
echo_case("5.6", "text in 2 fragments, ping between", [(1, b"frag1", False), (9, b"ping", True), (0, b"frag2", True)], [("pong", b"ping"), ("text", b"frag1frag2")])
echo_case("5.7", "as 5.6 in 1-byte chops", [(1, b"frag1", False), (9, b"ping", True), (0, b"frag2", True)], [("pong", b"ping"), ("text", b"frag1frag2")], chop=1)
fail_case("5.9", "continuation (FIN) without a start", [(0, b"fragment", True, 0), (1, b"ok", True, 0)])
fail_case("5.10", "as 5.9 in 1-byte chops", [(0, b"fragment", True, 0), (1, b"ok", True, 0)], chop=1)
fail_case("5.12", "continuation (no FIN) without a start", [(0, b"fragment", False, 0), (1, b"ok", True, 0)])
fail_case("5.15", "text fragments, then a new text start inside", [(1, b"a", False, 0), (0, b"b", True, 0), (0, b"c", False, 0), (1, b"d", True, 0)], want=[("text", b"ab")])
fail_case("5.16", "text start, text start again", [(1, b"a", False, 0), (1, b"b", True, 0)])
fail_case("5.18", "text start, binary start", [(1, b"a", False, 0), (2, b"b", True, 0)])
echo_case("5.19", "5 fragments, 2 pings between", [(1, b"f1", False), (0, b"f2", False), (9, b"p1", True), (0, b"f3", False), (0, b"f4", False), (9, b"p2", True), (0, b"f5", True)], [("pong", b"p1"), ("pong", b"p2"), ("text", b"f1f2f3f4f5")])
echo_case("5.21", "binary in 3 fragments", [(2, b"\x00", False), (0, b"\x01", False), (0, b"\x02", True)], [("binary", b"\x00\x01\x02")])
# Not an Autobahn case: the client is still sending when the server fails
# the connection. The server must read on until our close frame, or its
# close resets the connection and the close frame never arrives.
fail_case("5.90", "continuation without a start, then 256 KiB more frames", [(0, b"fragment", True, 0)] + [(2, b"\xfe" * 65536, True, 0)] * 4)
fail_case("5.91", "as 5.90 in 1-byte chops, short", [(0, b"fragment", True, 0)] + [(1, b"ok", True, 0)] * 8, chop=1)


# 5.20: the same with pauses between the frames
@case("5.20", "fragments and pings with pauses between frames")
def _(c):
    for frame in [(1, b"f1", False), (0, b"f2", False), (9, b"p1", True), (0, b"f3", True)]:
        c.frame(*frame)
        time.sleep(0.05)
    expect(c, "pong", b"p1")
    expect(c, "text", b"f1f2f3")
    expect_clean_close(c)


# 6 UTF-8
VALID = [
    b"", b"Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!",
    "κόσμε".encode(), b"\x00", b"\xc2\x80", b"\xe0\xa0\x80", b"\xf0\x90\x80\x80",
    b"\x7f", b"\xdf\xbf", b"\xef\xbf\xbf", b"\xf4\x8f\xbf\xbf", b"\xed\x9f\xbf",
    b"\xee\x80\x80", b"\xef\xbf\xbd", "Ünïcödé ✓ 温度 😀".encode(),
]
INVALID = [
    b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited",  # surrogate
    b"\x80", b"\xbf", b"\x80\xbf", b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf",
    b"\xc1\xbf", b"\xf8\x88\x80\x80\x80", b"\xfc\x84\x80\x80\x80\x80", b"\xfe", b"\xff",
    b"\xf4\x90\x80\x80", b"\xed\xa0\x80", b"\xed\xbf\xbf", b"\xed\xa0\x80\xed\xb0\x80",
    b"\xc2", b"\xe0\xa0", b"\xf0\x90\x80", b"\xce\xba\xe1\xbd", b"\xc0\x80",
]
for i, v in enumerate(VALID, 1):
    echo_case("6.2.%d" % i, "valid UTF-8, one frame", [(1, v, True)], [("text", v)])
    if len(v) > 1:
        frames = [(1, v[:1], False)] + [(0, v[j:j + 1], j == len(v) - 1) for j in range(1, len(v))]
        echo_case("6.3.%d" % i, "valid UTF-8, a fragment per byte", frames, [("text", v)])
for i, v in enumerate(INVALID, 1):
    fail_case("6.4.%d" % i, "invalid UTF-8 %r, one frame" % v[:8], [(1, v, True, 0)], codes=(1007,))
    if len(v) > 1:
        frames = [(1, v[:1], False, 0)] + [(0, v[j:j + 1], j == len(v) - 1, 0) for j in range(1, len(v))]
        fail_case("6.5.%d" % i, "invalid UTF-8 %r, a fragment per byte" % v[:8], frames, codes=(1007,))
echo_case("6.1.1", "empty text", [(1, b"", True)], [("text", b"")])
echo_case("6.1.2", "empty text in 3 empty fragments", [(1, b"", False), (0, b"", False), (0, b"", True)], [("text", b"")])
echo_case("6.1.3", "empty fragments, then text", [(1, b"", False), (0, b"middle", False), (0, b"", True)], [("text", b"middle")])
echo_case("6.1.4", "empty binary", [(2, b"", True)], [("binary", b"")])

# 7 close handling
echo_case("7.1.1", "text, then close", [(1, b"Hello World!", True)], [("text", b"Hello World!")])


@case("7.1.2", "close twice")
def _(c):
    c.frame(8, close_payload(1000))
    c.frame(8, close_payload(1000))
    expect_closed_by_server(c, (1000,), sent_close=True)


@case("7.1.3", "close, then ping: no pong")
def _(c):
    c.frame(8, close_payload(1000))
    c.frame(9, b"late")
    expect_closed_by_server(c, (1000,), sent_close=True)


@case("7.1.4", "close, then text: no echo")
def _(c):
    c.frame(8, close_payload(1000))
    c.frame(1, b"late")
    expect_closed_by_server(c, (1000,), sent_close=True)


@case("7.1.5", "a first fragment, then close")
def _(c):
    c.frame(1, b"fragment", fin=False)
    c.frame(8, close_payload(1000))
    c.frame(0, b"late", fin=True)
    expect_closed_by_server(c, (1000,), sent_close=True)


@case("7.1.6", "a 256 KiB message, then close")
def _(c):
    c.frame(1, b"BAsd7&jh23" * 26214 + b"BAsd")
    c.frame(8, close_payload(1000))
    while True:
        got = c.read_message()
        if got is None:
            raise Fail("TCP closed without a close frame")
        if got[0] == "close":
            break
    if c.read_frame() is not None:
        raise Fail("a frame after the close")


@case("7.3.1", "close with no payload")
def _(c):
    c.frame(8, b"")
    expect_closed_by_server(c, (None, 1000), sent_close=True)


fail_case("7.3.2", "close with a 1-byte payload", [(8, b"\x03", True, 0)])


@case("7.3.3", "close 1000, no reason")
def _(c):
    c.frame(8, close_payload(1000))
    expect_closed_by_server(c, (1000,), sent_close=True)


@case("7.3.4", "close 1000 with a reason")
def _(c):
    c.frame(8, close_payload(1000, b"Hello World!"))
    expect_closed_by_server(c, (1000,), sent_close=True)


@case("7.3.5", "close 1000 with a 123-byte reason")
def _(c):
    c.frame(8, close_payload(1000, b"*" * 123))
    expect_closed_by_server(c, (1000,), sent_close=True)


fail_case("7.3.6", "close with a 124-byte reason (126 bytes)", [(8, close_payload(1000, b"*" * 124), True, 0)])
fail_case("7.5.1", "close reason not UTF-8", [(8, close_payload(1000, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"), True, 0)], codes=(1002, 1007))

for i, code in enumerate([1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999], 1):
    def run(c, code=code):
        c.frame(8, close_payload(code))
        expect_closed_by_server(c, (code,), sent_close=True)
    CASES.append(("7.7.%d" % i, "valid close code %d" % code, run))
for i, code in enumerate([0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535], 1):
    fail_case("7.9.%d" % i, "invalid close code %d" % code, [(8, close_payload(code), True, 0)])

# 9 limits (up to 1 MiB, within the default --max-frame)
for i, n in enumerate([64 << 10, 256 << 10, 1 << 20], 1):
    echo_case("9.1.%d" % i, "text message %d bytes" % n, [(1, b"*" * n, True)], [("text", b"*" * n)])
    echo_case("9.2.%d" % i, "binary message %d bytes" % n, [(2, b"\xfe" * n, True)], [("binary", b"\xfe" * n)])
for i, f in enumerate([64, 256, 1 << 10, 4 << 10, 16 << 10, 64 << 10, 256 << 10], 1):
    n = 1 << 20
    frames = [(1 if j == 0 else 0, b"*" * f, j + f >= n) for j in range(0, n, f)]
    echo_case("9.3.%d" % i, "1 MiB text in %d-byte fragments" % f, frames, [("text", b"*" * n)])
    frames = [(2 if j == 0 else 0, b"\xfe" * f, j + f >= n) for j in range(0, n, f)]
    echo_case("9.4.%d" % i, "1 MiB binary in %d-byte fragments" % f, frames, [("binary", b"\xfe" * n)])
for i, chop in enumerate([64, 128, 256, 512, 1024, 2048], 1):
    echo_case("9.5.%d" % i, "1 MiB text sent in %d-byte chops" % chop, [(1, b"*" * (1 << 20), True)], [("text", b"*" * (1 << 20))], chop=chop)
for i in range(1, 4):
    echo_case("9.7.%d" % i, "%d00 small text messages" % i, [(1, b"m%d" % j, True) for j in range(i * 100)], [("text", b"m%d" % j) for j in range(i * 100)])

# 10 misc
echo_case("10.1.1", "64 KiB text, one frame, 1000-byte chops", [(1, b"*" * 65536, True)], [("text", b"*" * 65536)], chop=1000)


# H handshake
def raw_request(addr, head):
    host, port = addr.rsplit(":", 1)
    s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
    s.sendall(head)
    data = b""
    deadline = time.monotonic() + TIMEOUT
    while b"\r\n\r\n" not in data and time.monotonic() < deadline:
        try:
            chunk = s.recv(4096)
        except (socket.timeout, ConnectionResetError):
            break
        if not chunk:
            break
        data += chunk
    s.close()
    return data


GOOD_HEAD = ("GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")
for i, (desc, head) in enumerate([
    ("no Sec-WebSocket-Key", GOOD_HEAD.replace("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n", "")),
    ("Sec-WebSocket-Version 8", GOOD_HEAD.replace("Version: 13", "Version: 8")),
    ("no Upgrade header", GOOD_HEAD.replace("Upgrade: websocket\r\n", "")),
    ("POST", GOOD_HEAD.replace("GET", "POST")),
    ("a key that is not 16 bytes", GOOD_HEAD.replace("dGhlIHNhbXBsZSBub25jZQ==", "short")),
], 1):
    def run(addr, head=head):
        got = raw_request(addr, head.encode())
        if not got.startswith(b"HTTP/1.1 400"):
            raise Fail("wanted HTTP 400, got %r" % got[:40])
    CASES.append(("H.%d" % i, "bad handshake: " + desc, run))


def main():
    addr = sys.argv[1]
    only = sys.argv[2] if len(sys.argv) > 2 else ""
    passed = failed = 0
    for cid, desc, fn in CASES:
        if not cid.startswith(only):
            continue
        c = None
        try:
            if cid.startswith("H."):
                fn(addr)
            else:
                c = Conn(addr)
                fn(c)
            passed += 1
        except (Fail, OSError) as e:
            failed += 1
            print("FAIL %s (%s): %s" % (cid, desc, e), flush=True)
        finally:
            if c is not None:
                c.close()
    print("%d cases, %d passed, %d failed" % (passed + failed, passed, failed), flush=True)
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
