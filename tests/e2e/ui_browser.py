"""The browser scenario of `sockmate ui`, in Debian's Chromium via Playwright.

Run by tests/e2e/ui.rs as: ui_browser.py URL SHOTS_DIR PROFILE_DIR
(URL is the printed `http://127.0.0.1:PORT/#token=...`).

1. NetAssist loop: a TCP client to a Python device that answers every
   Modbus-like request in GBK; hex `01 03 00 00 00 01` every 200 ms x 3;
   three decoded GBK replies, counters 3/3; hex view; bad hex marked.
2. A TCP server with three Python clients: send to one only, disconnect
   another, the list updates; a UTF-8 character split across two reads
   decodes as one.
3. The log saved as JSON Lines, checked against the `--json` schema.
4. 中文 interface.
"""

import json
import re
import socket
import sys
import threading
import time

from playwright.sync_api import sync_playwright

URL, SHOTS, PROFILE = sys.argv[1], sys.argv[2], sys.argv[3]
REPLY = "温度 23.5°C 正常\r\n".encode("gbk")
REQUEST = bytes.fromhex("010300000001")
DEADLINE = 20.0


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def device():
    """A device on loopback that answers each 6-byte request with REPLY (GBK)."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)
    srv.settimeout(DEADLINE * 3)

    def serve():
        try:
            conn, _ = srv.accept()
        except OSError:
            return
        conn.settimeout(DEADLINE * 3)
        buf = b""
        try:
            while True:
                data = conn.recv(4096)
                if not data:
                    break
                buf += data
                while len(buf) >= 6:
                    req, buf = buf[:6], buf[6:]
                    if req == REQUEST:
                        conn.sendall(REPLY)
        except OSError:
            pass
        conn.close()

    threading.Thread(target=serve, daemon=True).start()
    return srv.getsockname()


def recv_exact(s, n):
    s.settimeout(DEADLINE)
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            break
        out += chunk
    return out


def hex_rows(data):
    """The page's hex of a message over 16 bytes: `--hex`'s rows."""
    rows = []
    for at in range(0, len(data), 16):
        part = data[at:at + 16]
        cells = "".join(f"{b:02X}" + ("  " if i == 7 else " ") for i, b in enumerate(part))
        cells += "".join("  " + ("  " if i == 7 else " ") for i in range(len(part), 16))
        gutter = "".join(chr(b) if 0x20 <= b < 0x7f else "." for b in part)
        rows.append(f"{at:08x}  {cells} |{gutter}|")
    return "\n".join(rows)


def shot(page, name):
    page.screenshot(path=f"{SHOTS}/{name}.png")


def main():
    dev_host, dev_port = device()
    with sync_playwright() as p:
        browser = p.chromium.launch_persistent_context(
            PROFILE,
            executable_path="/usr/bin/chromium",
            headless=True,
            accept_downloads=True,
            locale="en-US",
            viewport={"width": 1360, "height": 860},
            args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        )
        page = browser.new_page()
        page.set_default_timeout(DEADLINE * 1000)
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            scenario(page, errors, dev_host, dev_port)
        except Exception:
            shot(page, "failure")
            print("page errors:", errors)
            raise
        browser.close()
    print("browser scenario: ok")


def scenario(page, errors, dev_host, dev_port):
    if True:
        page.goto(URL)
        page.wait_for_selector("#ws-status.online")

        # 1. The NetAssist loop against the GBK device.
        page.select_option("#new-type", "tcp-client")
        page.fill("#new-addr", f"{dev_host}:{dev_port}")
        page.select_option("#new-encoding", "gbk")
        page.click("#new-open")
        page.wait_for_selector(".session-item .dot.on")
        page.select_option("#send-format", "hex")
        page.fill("#send-input", "01 03 0g 00")
        page.wait_for_selector("#hex-bad")
        check(page.inner_text("#hex-bad") == "0g", "the bad hex token is marked")
        check("position 6" in page.inner_text("#hex-status"), page.inner_text("#hex-status"))
        check(page.is_disabled("#send-btn"), "send is off while the hex is bad")
        page.fill("#send-input", "01 03 00 00 00 01")
        page.wait_for_selector("#hex-status.ok")
        check("6" in page.inner_text("#hex-status"), "6 bytes")
        page.fill("#auto-every", "200")
        page.fill("#auto-times", "3")
        page.click("#auto-btn")
        page.wait_for_function(
            "() => document.querySelector('#count-rx')?.dataset.msgs === '3'"
            " && document.querySelector('#count-tx')?.dataset.msgs === '3'")
        page.wait_for_function("() => document.querySelectorAll('.row.data.in').length === 3")
        texts = page.eval_on_selector_all(".row.data.in pre.text", "els => els.map(e => e.textContent)")
        check(texts == ["温度 23.5°C 正常\r\n"] * 3, f"three decoded GBK replies: {texts!r}")
        check(page.get_attribute("#count-rx", "data-bytes") == str(3 * len(REPLY)), "rx bytes")
        shot(page, "netassist-text")
        page.select_option("#view-mode", "hex")
        hexes = page.eval_on_selector_all(".row.data.in pre.hex", "els => els.map(e => e.textContent)")
        want = hex_rows(REPLY)
        check(hexes == [want] * 3, f"hex view of past replies (offset + 16-byte rows): {hexes!r}")
        check(page.locator(".row.data pre.text").count() == 0, "hex view hides text")
        sent = page.eval_on_selector_all(".row.data.out pre.hex", "els => els.map(e => e.textContent)")
        check(sent == ["01 03 00 00 00 01"] * 3, f"sent frames: {sent!r}")
        page.select_option("#view-mode", "both")
        shot(page, "netassist-both")

        # 3. The log as JSON Lines (the --json schema).
        with page.expect_download() as dl:
            page.click("#save-json")
        path = f"{SHOTS}/netassist.jsonl"
        dl.value.save_as(path)
        lines = [json.loads(line) for line in open(path, encoding="utf-8") if line.strip()]
        types = [e["type"] for e in lines]
        check(types[0] == "open", f"first event is open: {types}")
        ins = [e for e in lines if e["type"] == "data" and e["dir"] == "in"]
        outs = [e for e in lines if e["type"] == "data" and e["dir"] == "out"]
        check(len(ins) == 3 and len(outs) == 3, f"3 in, 3 out: {types}")
        for e in ins:
            check(e["hex"] == REPLY.hex() and e["len"] == len(REPLY), f"in event: {e}")
            check(e["text"] == "温度 23.5°C 正常\r\n", f"text: {e}")
            check(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}[+-]\d\d:\d\d", e["time"]), e["time"])
            check(e["conn"] == lines[0]["conn"] and e["peer"] == f"tcp://{dev_host}:{dev_port}", f"conn: {e}")
        check(all(e["hex"] == REQUEST.hex() for e in outs), f"out events: {outs}")

        # 2. A TCP server with three clients.
        page.select_option("#new-type", "tcp-server")
        page.fill("#new-addr", "127.0.0.1:0")
        page.select_option("#new-encoding", "utf-8")
        page.click("#new-open")
        page.wait_for_function("() => document.querySelector('#session-label')?.textContent === 'tcp://127.0.0.1:0'"
                               " && !(document.querySelector('#session-local')?.dataset.local || ':0').endsWith(':0')")
        local = page.get_attribute("#session-local", "data-local")
        host, port = local.removeprefix("tcp://").rsplit(":", 1)
        clients = [socket.create_connection((host, int(port)), timeout=DEADLINE) for _ in range(3)]
        page.wait_for_function("() => document.querySelectorAll('tr.client').length === 3")
        ids = page.eval_on_selector_all("tr.client", "rows => rows.map(r => [r.dataset.conn, r.children[1].textContent])")
        by_peer = {peer: conn for conn, peer in ids}
        conn_of = [by_peer["%s:%d" % c.getsockname()] for c in clients]
        page.select_option("#view-mode", "text")
        page.select_option("#send-format", "text")
        page.fill("#send-input", "only you")
        page.click(f"tr.client[data-conn='{conn_of[1]}'] .client-send")
        check(recv_exact(clients[1], 8) == b"only you", "client 2 got its message")
        page.click(f"tr.client[data-conn='{conn_of[2]}'] .client-close")
        check(recv_exact(clients[2], 1) == b"", "client 3 was disconnected")
        page.wait_for_function("() => document.querySelectorAll('tr.client').length === 2")
        check(page.locator(f"tr.client[data-conn='{conn_of[2]}']").count() == 0, "client 3 left the list")
        page.fill("#send-input", "all")
        page.click("#send-all")
        check(recv_exact(clients[0], 3) == b"all", "client 1's first bytes are the broadcast: it never got 'only you'")
        check(recv_exact(clients[1], 3) == b"all", "client 2 got the broadcast")
        clients[0].sendall("中".encode()[:1])
        page.wait_for_function("() => [...document.querySelectorAll('.row.data.in')].length >= 1")
        time.sleep(0.1)
        clients[0].sendall("中".encode()[1:] + "文 ok\n".encode())
        page.wait_for_function("() => [...document.querySelectorAll('.row.data.in pre.text')].some(e => e.textContent.includes('中文 ok'))")
        joined = "".join(page.eval_on_selector_all(".row.data.in pre.text", "els => els.map(e => e.textContent)"))
        check("\ufffd" not in joined and "中文 ok" in joined, f"split character decoded: {joined!r}")
        # Pause holds new lines back; resume shows them.
        shown = page.locator(".row").count()
        page.click("#log-pause")
        clients[0].sendall(b"while paused\n")
        page.wait_for_function("() => document.querySelector('#count-rx')?.dataset.msgs === '3'")
        check(page.locator(".row").count() == shown, "paused: nothing new shown")
        page.click("#log-pause")
        page.wait_for_selector("text=while paused")
        page.select_option("#log-filter", conn_of[1])
        rows = page.eval_on_selector_all(".row", "rs => rs.map(r => r.querySelector('.peer')?.textContent || '')")
        check(all(r == "" or r.startswith(f"#{conn_of[1]} ") for r in rows), f"filter by connection: {rows}")
        page.select_option("#log-filter", "all")
        page.fill("#send-input", "hello from the page")
        # The server's live counters: 3 messages out (one + two), 3 in.
        page.wait_for_function(
            "() => document.querySelector('#count-tx')?.dataset.msgs === '3'"
            " && document.querySelector('#count-rx')?.dataset.msgs === '3'"
            " && document.querySelector('#count-tx')?.dataset.bytes === '14'")
        shot(page, "server-clients")

        # 4. 中文.
        page.click("#lang-toggle")
        page.wait_for_selector("text=网络调试助手")
        check("发送给全部" in page.inner_text("#clients"), "client list in Chinese")
        shot(page, "server-clients-zh")
        page.click("#lang-toggle")
        # Saved messages and the history survive a reload.
        page.once("dialog", lambda d: d.accept("greeting"))
        page.click("text=Save as…")
        page.reload()
        page.wait_for_selector("#ws-status.online")
        page.wait_for_selector(".session-item")
        saved = page.eval_on_selector_all("#send-saved option", "os => os.map(o => o.textContent)")
        check(any(o.startswith("greeting: ") for o in saved), f"saved message kept: {saved}")
        history = page.eval_on_selector_all("#send-history option", "os => os.map(o => o.textContent)")
        check(any("only you" in o for o in history) and any("01 03 00 00 00 01" in o for o in history),
              f"history kept: {history}")
        page.select_option("#send-saved", index=1)
        check(page.input_value("#send-input") == "hello from the page", "a saved message fills the box")
        page.click(".session-item:nth-child(2)")
        page.wait_for_selector("tr.client")

        check(not errors, f"no page errors: {errors}")
        for c in clients:
            c.close()


main()
