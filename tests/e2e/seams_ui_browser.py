"""Issue 21's browser scenarios of `sockmate ui`, in Debian's Chromium via
Playwright.

Run by tests/e2e/seams_ui.rs as:
    seams_ui_browser.py SCENARIO URL SHOTS_DIR PROFILE_DIR [ARGS...]
and prints "scenario SCENARIO: ok" when every check holds.

- udp: a UDP client session auto-sends 10 datagrams 1.5 s apart to a
  Python UDP peer; all 10 arrive (the session no longer closes 1 s after a
  send).
- cli_gbk LOCAL: `connect --ui --encoding gbk`'s page decodes GBK, shows a
  client (no client list) and `@ LOCAL`, its own address.
- relay LISTEN: a Python client of `relay --ui`; the page lists the pair
  by the client's real address, shows `@ LISTEN`, no send controls;
  Disconnect cuts the pair.
- reload LISTEN PID: a Python client of `listen --ui` sends a line before
  the page opens (replayed from the kept history), then another; a reload
  keeps both and the start time; when sockmate (PID) exits the page says
  "session ended".
- hexview: a TCP client session to a Python peer: hex sends show as text
  ("Hello") or, when binary, as hex in the Text view (never dots); a
  40-byte message's hex is offset + 16-byte rows; `@` is the client's own
  address.
- savetxt: a Python peer sends NUL, CR/LF inside a message and an escape
  sequence; the saved .txt is one line per entry with control bytes
  escaped (`file` calls it text).
- polish: after switching sessions the log is at its end (no "scrolled
  up" marker); "Save as…" stays on the send toolbar's row at 1400 px with
  a long message remembered; under 中文 the engine's errors are Chinese
  (with a "错误：" fallback).
- sendbox: a TCP server with a respond rule answers a Python client; a
  template with {seq:u8}{crc16:modbus} previews its bytes and sends them
  renumbered each time; a saved message is one click in the quick-send
  panel; the saved messages export as a profile (SHOTS/sendbox-profile.toml,
  checked with the CLI by the Rust test) and a profile's packets import.
"""

import os
import shutil
import signal
import socket
import subprocess
import sys
import time

from playwright.sync_api import sync_playwright

SCENARIO, URL, SHOTS, PROFILE = sys.argv[1:5]
ARGS = sys.argv[5:]
DEADLINE = 30.0


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def shot(page, name):
    page.screenshot(path=f"{SHOTS}/{SCENARIO}-{name}.png")


def udp(page):
    peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    peer.bind(("127.0.0.1", 0))
    host, port = peer.getsockname()
    page.goto(URL)
    page.wait_for_selector("#ws-status.online")
    page.select_option("#new-type", "udp")
    page.fill("#new-addr", f"{host}:{port}")
    page.fill("#new-local", "")
    page.click("#new-open")
    page.wait_for_selector(".session-item .dot.on")
    page.select_option("#send-format", "text")
    page.fill("#send-input", "tick")
    page.fill("#auto-every", "1500")
    page.fill("#auto-times", "10")
    page.click("#auto-btn")
    got = []
    # 10 sends 1.5 s apart take 13.5 s; every wait is bounded.
    peer.settimeout(5.0)
    end = time.monotonic() + 40.0
    while len(got) < 10 and time.monotonic() < end:
        try:
            data, _ = peer.recvfrom(2048)
        except socket.timeout:
            break
        got.append(data)
    check(got == [b"tick"] * 10, f"10 datagrams arrive: {got!r}")
    page.wait_for_function("() => document.querySelector('#count-tx')?.dataset.msgs === '10'")
    check(page.locator(".session-item .dot.on").count() == 1, "the session still runs")
    check(page.locator(".row.event.close").count() == 0, "no close event in the log")
    shot(page, "done")
    print("received 10 datagrams")


def open_page(page):
    page.goto(URL)
    page.wait_for_selector("#ws-status.online")
    page.wait_for_selector(".session-item .dot.on")


def cli_gbk(page):
    (local,) = ARGS
    open_page(page)
    page.wait_for_function("() => [...document.querySelectorAll('.row.data.in pre.text')]"
                           ".some(e => e.textContent.includes('温度 23.5'))")
    texts = page.eval_on_selector_all(".row.data.in pre.text", "els => els.map(e => e.textContent)")
    check("\ufffd" not in "".join(texts), f"decoded as GBK: {texts!r}")
    check(page.locator("tr.client").count() == 0 and page.is_hidden("#clients"), "a client has no client list")
    page.wait_for_function(f"() => document.querySelector('#session-local')?.dataset.local === '{local}'")
    check(page.inner_text("#session-local") == f"@ {local}", page.inner_text("#session-local"))
    check(page.input_value("#recv-encoding") == "gbk", "the page's encoding is the CLI's")
    shot(page, "page")


def relay(page):
    (listen,) = ARGS
    open_page(page)
    host, port = listen.removeprefix("tcp://").rsplit(":", 1)
    client = socket.create_connection((host, int(port)), timeout=DEADLINE)
    me = "%s:%d" % client.getsockname()
    client.sendall(b"ping")
    page.wait_for_selector("tr.client")
    peer = page.inner_text("tr.client td.mono")
    check(peer == me, f"the pair shows its client's address: {peer!r} != {me!r}")
    check(page.get_attribute("#session-local", "data-local") == listen,
          f"the real listen address: {page.get_attribute('#session-local', 'data-local')}")
    check(port != "0" and page.inner_text("#session-label").startswith(f"relay {listen} → "),
          page.inner_text("#session-label"))
    check(page.locator(".client-send").count() == 0 and page.locator("#send-all").count() == 0
          and page.locator("#send-input").count() == 0, "no send controls on a relay")
    page.wait_for_selector(".row.event.open")
    peers = page.eval_on_selector_all(".row .peer", "els => els.map(e => e.textContent)")
    check(peers and all(p.strip() == f"#1 {me}" for p in peers), f"no '#1 #1': {peers}")
    check("null" not in page.inner_text(".main"), "no stray 'null' in the page")
    shot(page, "pair")
    page.click("tr.client .client-close")
    # A pair cut before its target ended resets the client (issue 21 #14).
    try:
        rest = recv_all(client)
    except ConnectionResetError:
        rest = b""
    check(rest == b"", "the client was disconnected")
    page.wait_for_function("() => document.querySelectorAll('tr.client').length === 0")
    page.wait_for_selector(".row.event.close")
    client.close()


def recv_all(s):
    s.settimeout(DEADLINE)
    out = b""
    for _ in range(1000):
        chunk = s.recv(4096)
        if not chunk:
            break
        out += chunk
    return out


def lines_shown(page):
    return "".join(page.eval_on_selector_all(".row.data.in pre.text", "els => els.map(e => e.textContent)"))


def reload(page):
    listen, pid = ARGS
    host, port = listen.removeprefix("tcp://").rsplit(":", 1)
    client = socket.create_connection((host, int(port)), timeout=DEADLINE)
    client.sendall(b"before the page\n")
    open_page(page)
    page.wait_for_function("() => [...document.querySelectorAll('.row.data.in pre.text')]"
                           ".some(e => e.textContent.includes('before the page'))")
    client.sendall(b"while it is open\n")
    page.wait_for_function("() => [...document.querySelectorAll('.row.data.in pre.text')]"
                           ".some(e => e.textContent.includes('while it is open'))")
    since = page.get_attribute("#count-duration", "data-since")
    rows = page.locator(".row").count()
    page.reload()
    open_page(page)
    page.wait_for_function("() => [...document.querySelectorAll('.row.data.in pre.text')]"
                           ".some(e => e.textContent.includes('while it is open'))")
    shown = lines_shown(page)
    check(shown.count("before the page") == 1 and shown.count("while it is open") == 1,
          f"the log survives a reload, each line once: {shown!r}")
    check(page.locator(".row").count() == rows, f"the same rows: {page.locator('.row').count()} != {rows}")
    check(page.get_attribute("#count-duration", "data-since") == since, "the start time is kept")
    check(page.locator(".row.event.open").count() == 1, "the open event was kept too")
    shot(page, "reloaded")
    os.kill(int(pid), signal.SIGTERM)
    page.wait_for_selector("#ws-status.ended")
    check("session ended" in page.inner_text("#ws-status"), page.inner_text("#ws-status"))
    page.wait_for_selector(".session-item .dot.off")
    shot(page, "ended")
    client.close()


def hexview(page):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(DEADLINE)
    host, port = srv.getsockname()
    page.goto(URL)
    page.wait_for_selector("#ws-status.online")
    page.select_option("#new-type", "tcp-client")
    page.fill("#new-addr", f"{host}:{port}")
    page.select_option("#new-encoding", "utf-8")
    page.click("#new-open")
    peer, addr = srv.accept()
    local = "tcp://%s:%d" % addr
    page.wait_for_selector(".session-item .dot.on")
    page.wait_for_function(f"() => document.querySelector('#session-local')?.dataset.local === '{local}'")
    check(page.inner_text("#session-local") == f"@ {local}", "@ is the client's own address")
    page.select_option("#view-mode", "text")
    page.select_option("#send-format", "hex")
    page.fill("#send-input", "48 65 6C 6C 6F")
    page.wait_for_selector("#hex-status.ok")
    page.click("#send-btn")
    page.wait_for_selector(".row.data.out")
    page.fill("#send-input", "01 02 03 04")
    page.wait_for_selector("#hex-status.ok")
    page.click("#send-btn")
    page.wait_for_function("() => document.querySelectorAll('.row.data.out').length === 2")
    outs = page.eval_on_selector_all(".row.data.out pre", "els => els.map(e => e.textContent)")
    check(outs == ["Hello", "01 02 03 04"], f"decoded text, or the hex; never dots: {outs!r}")
    long = b"0123456789abcdefghijklmnopqrstuvwxyz\x01\x02\x03\x04"
    peer.sendall(long)
    page.wait_for_selector(".row.data.in")
    text = page.inner_text(".row.data.in pre.text")
    check(text == "0123456789abcdefghijklmnopqrstuvwxyz\\x01\\x02\\x03\\x04", f"control bytes escaped: {text!r}")
    page.select_option("#view-mode", "hex")
    rows = page.inner_text(".row.data.in pre.hex").split("\n")
    check(len(rows) == 3 and rows[0].startswith("00000000  30 31") and rows[1].startswith("00000010  ")
          and rows[2].startswith("00000020  77 78 79 7A 01 02 03 04") and rows[0].endswith("|0123456789abcdef|"),
          f"offset + 16-byte rows: {rows!r}")
    check("·" not in page.inner_text("#log"), "no dots")
    shot(page, "hex")
    peer.close()
    srv.close()


def savetxt(page):
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    srv.settimeout(DEADLINE)
    host, port = srv.getsockname()
    page.goto(URL)
    page.wait_for_selector("#ws-status.online")
    page.select_option("#new-type", "tcp-client")
    page.fill("#new-addr", f"{host}:{port}")
    page.select_option("#new-encoding", "utf-8")
    page.click("#new-open")
    peer, _ = srv.accept()
    page.wait_for_selector(".session-item .dot.on")
    messages = [b"a\x00b\r\nc\n", b"\x1b[31mred\x07", b"tab\there"]
    for i, m in enumerate(messages):
        peer.sendall(m)
        page.wait_for_function(f"() => document.querySelectorAll('.row.data.in').length === {i + 1}")
    page.select_option("#view-mode", "text")
    with page.expect_download() as dl:
        page.click("#save-text")
    path = f"{SHOTS}/{SCENARIO}.txt"
    dl.value.save_as(path)
    data = open(path, "rb").read()
    lines = data.decode("utf-8").split("\n")
    check(lines[-1] == "", "ends with a newline")
    body = lines[:-1]
    bad = [b for b in data if (b < 0x20 and b not in (0x09, 0x0a)) or b == 0x7f]
    check(not bad, f"no raw control bytes: {bad!r} in {data!r}")
    ins = [l for l in body if " < " in l]
    check(len(ins) == 3, f"one line per received message: {body!r}")
    check(ins[0].endswith("< 7 B a\\x00b\\r\\nc\\n"), ins[0])
    check(ins[1].endswith("< 9 B \\x1b[31mred\\x07"), ins[1])
    check(ins[2].endswith("< 8 B tab\there"), ins[2])
    if shutil.which("file"):
        kind = subprocess.run(["file", "-b", path], capture_output=True, text=True, timeout=DEADLINE).stdout
        check("text" in kind, f"file calls it text: {kind!r}")
    peer.close()
    srv.close()


def at_end(page):
    return page.evaluate("() => { const p = document.querySelector('#log');"
                         " return p.scrollTop + p.clientHeight >= p.scrollHeight - 24; }")


def toast(page, needle):
    page.wait_for_function("(n) => document.querySelector('#toast.show')?.textContent.includes(n)", arg=needle)
    return page.inner_text("#toast")


def polish(page):
    page.goto(URL)
    page.wait_for_selector("#ws-status.online")
    page.select_option("#new-type", "tcp-server")
    page.fill("#new-addr", "127.0.0.1:0")
    page.click("#new-open")
    page.wait_for_function("() => !(document.querySelector('#session-local')?.dataset.local || ':0').endsWith(':0')")
    local = page.get_attribute("#session-local", "data-local")
    host, port = local.removeprefix("tcp://").rsplit(":", 1)
    client = socket.create_connection((host, int(port)), timeout=DEADLINE)
    page.wait_for_selector("tr.client")
    for i in range(120):
        client.sendall(f"line {i}\n".encode())
        page.wait_for_function(f"() => document.querySelectorAll('.row.data.in').length === {i + 1}")
    check(at_end(page), "following the log")
    # A long message in the history must not push "Save as…" to a row of its own.
    page.select_option("#send-format", "text")
    page.fill("#send-input", "a long message that fills the history menu with its many words " * 2)
    page.click("#send-all")
    check(recv_exact(client, 1) != b"", "the client got it")
    page.wait_for_function("() => document.querySelectorAll('#send-history option').length === 2")
    top = lambda sel: page.eval_on_selector(sel, "e => Math.round(e.getBoundingClientRect().top)")
    check(abs(top("#save-msg") - top("#send-format")) <= 4,
          f"Save as… on the toolbar's row: {top('#save-msg')} vs {top('#send-format')}")
    # Another session, then back: the log is at its end, no marker.
    page.select_option("#new-type", "tcp-server")
    page.fill("#new-addr", "127.0.0.1:0")
    page.click("#new-open")
    page.wait_for_function("() => document.querySelectorAll('.session-item').length === 2"
                           " && document.querySelector('.session-item:nth-child(2)').classList.contains('selected')")
    page.click(".session-item:nth-child(1)")
    page.wait_for_function("() => document.querySelectorAll('.row.data.in').length === 120")
    page.wait_for_timeout(300)
    check(at_end(page), "the log is shown at its end after switching back")
    check(page.is_hidden("#log-jump"), "no 'scrolled up' marker")
    shot(page, "switched")
    # 中文: the engine's errors too.
    page.click("#lang-toggle")
    page.wait_for_selector("text=网络调试助手")
    page.click(".session-item:nth-child(2)")
    page.fill("#send-input", "x")
    page.click("#send-btn")
    check("没有活动连接" in toast(page, "没有活动连接"), "no live connection, in Chinese")
    page.fill("#record-path", "../x")
    page.click("#record-btn")
    check("记录文件" in toast(page, "记录文件"), "the record refusal, in Chinese")
    page.select_option("#new-type", "tcp-client")
    page.fill("#new-addr", "127.0.0.1:99999")
    page.click("#new-open")
    msg = toast(page, "错误：")
    check(msg.startswith("错误："), f"fallback: {msg!r}")
    shot(page, "zh-error")
    client.close()


def recv_exact(s, n):
    s.settimeout(DEADLINE)
    return s.recv(n)


def crc16_modbus(data):
    crc = 0xFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc.to_bytes(2, "little")


def sendbox(page):
    page.goto(URL)
    page.wait_for_selector("#ws-status.online")
    page.select_option("#new-type", "tcp-server")
    page.fill("#new-addr", "127.0.0.1:0")
    page.fill("#new-respond", "PING=>PONG\\n")
    page.click("#new-open")
    page.wait_for_function("() => !(document.querySelector('#session-local')?.dataset.local || ':0').endsWith(':0')")
    local = page.get_attribute("#session-local", "data-local")
    host, port = local.removeprefix("tcp://").rsplit(":", 1)
    client = socket.create_connection((host, int(port)), timeout=DEADLINE)
    client.settimeout(DEADLINE)
    client.sendall(b"PING\n")
    check(recv_n(client, 5) == b"PONG\n", "the respond rule answers")
    page.wait_for_selector("tr.client")
    page.select_option("#send-format", "template")
    page.fill("#send-input", "AB{seq:u8}{crc16:modbus}")
    first = b"AB\x01" + crc16_modbus(b"AB\x01")
    want = " ".join(f"{b:02X}" for b in first)
    page.wait_for_function("(w) => document.querySelector('#send-preview.ok')?.textContent === w",
                           arg=f"→ 5 B: {want}")
    page.click("#send-all")
    check(recv_n(client, 5) == first, "send 1")
    page.click("#send-all")
    second = b"AB\x02" + crc16_modbus(b"AB\x02")
    check(recv_n(client, 5) == second, "send 2: renumbered, its checksum too")
    page.once("dialog", lambda d: d.accept("poll"))
    page.click("#save-msg")
    page.click(".quick-btn[data-name='poll']")
    check(recv_n(client, 5) == b"AB\x03" + crc16_modbus(b"AB\x03"), "one click sends the saved message")
    page.fill("#send-input", "x{crc99}")
    page.wait_for_selector("#send-preview.bad")
    check("invalid template" in page.inner_text("#send-preview"), page.inner_text("#send-preview"))
    check(page.is_disabled("#send-btn"), "no send while the template is bad")
    top = lambda sel: page.eval_on_selector(sel, "e => Math.round(e.getBoundingClientRect().top)")
    check(abs(top("#save-msg") - top("#send-format")) <= 4, "Save as… on the toolbar's row with a template")
    check(abs(top("#send-btn") - top("#auto-btn")) <= 4, "Send on its row beside a long preview error")
    with page.expect_download() as dl:
        page.click("#profile-export")
    dl.value.save_as(f"{SHOTS}/sendbox-profile.toml")
    imported = f"{SHOTS}/sendbox-import.toml"
    with open(imported, "w", encoding="utf-8") as f:
        f.write('command = "connect"\n[packets]\nhello = "hi{crc16:modbus}"\n[service]\nrespond = ["A=>B"]\n')
    page.set_input_files("#profile-import", imported)
    page.wait_for_selector(".quick-btn[data-name='hello']")
    check("A=>B" in page.input_value("#new-respond"), "the profile's respond rules fill the form")
    page.click(".quick-btn[data-name='hello']")
    check(recv_n(client, 4) == b"hi" + crc16_modbus(b"hi"), "an imported packet sends as the CLI would")
    shot(page, "quick")
    client.close()


def recv_n(s, n):
    out = b""
    for _ in range(100):
        if len(out) >= n:
            break
        chunk = s.recv(n - len(out))
        if not chunk:
            break
        out += chunk
    return out


def scan(page):
    """A port scan started from the page: its rows, in port order, and the
    totals."""
    (open_port, closed_port) = ARGS
    page.goto(URL)
    page.wait_for_selector("#ws-status.online")
    page.select_option("#new-type", "scan")
    page.fill("#new-addr", f"127.0.0.1 {open_port},{closed_port}")
    page.click("#new-open")
    page.wait_for_function("() => document.querySelectorAll('.row.event.scan_done').length === 1")
    rows = page.eval_on_selector_all(".row.event.scan_port .what", "els => els.map(e => e.textContent)")
    want = sorted([(int(open_port), "open"), (int(closed_port), "closed")])
    check(rows == [f"{port}/tcp {state}" for port, state in want], f"one row per port, in order: {rows}")
    done = page.inner_text(".row.event.scan_done .what")
    check("1 open, 1 closed" in done, f"the totals: {done!r}")
    check(page.is_hidden("#clients") and page.locator("#send-btn").count() == 0, "a scan has no clients and no send box")
    label = page.inner_text(".session-item .label")
    check("scan 127.0.0.1" in label, f"the session's label: {label!r}")
    shot(page, "scan")


SCENARIOS = {"scan": scan, "sendbox": sendbox, "polish": polish, "savetxt": savetxt, "udp": udp, "cli_gbk": cli_gbk, "relay": relay, "reload": reload, "hexview": hexview}


def main():
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            PROFILE,
            executable_path="/usr/bin/chromium",
            headless=True,
            accept_downloads=True,
            locale="en-US",
            viewport={"width": 1400, "height": 860},
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        page = browser.new_page()
        page.set_default_timeout(DEADLINE * 1000)
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            SCENARIOS[SCENARIO](page)
            check(not errors, f"no page errors: {errors}")
        except Exception:
            shot(page, "failure")
            print("page errors:", errors)
            raise
        browser.close()
    print(f"scenario {SCENARIO}: ok")


main()
