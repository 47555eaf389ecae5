"""Issue 21's browser scenarios of `sockmate ui`, in Debian's Chromium via
Playwright.

Run by tests/e2e/seams_ui.rs as:
    seams_ui_browser.py SCENARIO URL SHOTS_DIR PROFILE_DIR [ARGS...]
and prints "scenario SCENARIO: ok" when every check holds.

- udp: a UDP client session auto-sends 10 datagrams 1.5 s apart to a
  Python UDP peer; all 10 arrive (the session no longer closes 1 s after a
  send).
"""

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


SCENARIOS = {"udp": udp}


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
