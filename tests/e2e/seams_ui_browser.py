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
"""

import os
import signal
import socket
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
    check(recv_all(client) == b"", "the client was disconnected")
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


SCENARIOS = {"udp": udp, "cli_gbk": cli_gbk, "relay": relay, "reload": reload}


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
