"""Pictures in Debian's Chromium via Playwright (issue 25, section 4).

Run by tests/e2e/pictures.rs as:

  pictures_browser.py report DIR SHOTS PROFILE
      DIR holds a.json/a.html, b.json/b.html (two `bench --json --report`
      runs), merged.json/merged.html (`bench merge --report`) and cmp.html
      (`bench merge --compare`). Each page is opened with the network
      watched (it must load nothing), its charts must be drawn, and the
      figures and curves it shows must be the --json report's.

  pictures_browser.py ui URL SHOTS PROFILE
      URL is `sockmate ui`'s address. A TCP server session is opened in the
      page; a Python client on loopback sends while the live rate chart and
      the client's sparkline are watched: the rates are non-zero while the
      traffic flows, add up to the session's counters, and the counters
      are what the client sent.

Prints "pictures: ok" at the end; screenshots go to SHOTS.
"""

import json
import math
import re
import socket
import sys
import time

from playwright.sync_api import sync_playwright

MODE, WHERE, SHOTS, PROFILE = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
DEADLINE = 20.0


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def close(a, b, what, rel=1e-9):
    check(math.isclose(a, b, rel_tol=rel, abs_tol=1e-9), f"{what}: {a} != {b}")


def browser(p):
    return p.chromium.launch_persistent_context(
        PROFILE,
        executable_path="/usr/bin/chromium",
        headless=True,
        locale="en-US",
        viewport={"width": 1100, "height": 860},
        args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
              "--disable-background-networking", "--disable-component-update", "--disable-sync"],
    )


def series(page, chart):
    """{name: [(x, y), ...]} of the chart's series, from their data-points."""
    out = {}
    for el in page.query_selector_all(f"svg#{chart} path.series"):
        pts = el.get_attribute("data-points") or ""
        out[el.get_attribute("data-series")] = [tuple(map(float, p.split(","))) for p in pts.split(";") if p]
    return out


def figure(page, metric, run=0):
    cell = page.query_selector(f'#summary td[data-metric="{metric}"][data-run="{run}"]')
    check(cell is not None, f"no {metric} figure for run {run}")
    return float(cell.get_attribute("data-value")), cell.inner_text()


def shown_us(v):
    return f"{v:.0f} µs" if v >= 100 else f"{v:.1f} µs"


def timeline_rates(report, key):
    """What the report's page plots: each interval's count per second, at its middle."""
    every = report["timeline"]["interval_s"]
    out = []
    for i, s in enumerate(report["timeline"]["samples"]):
        start = i * every
        length = min(every, report["duration_s"] - start)
        if length <= 0:
            continue
        out.append((start + length / 2, s[key] / length))
    return out


def check_page(page, path, reports, labels):
    requests = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(f"file://{path}")
    page.wait_for_selector("svg#percentiles path.series")
    check(requests == [f"file://{path}"], f"{path} loaded more than itself: {requests}")
    for chart in ["percentiles", "histogram", "throughput", "bandwidth", "errors"]:
        box = page.query_selector(f"svg#{chart}").bounding_box()
        check(box and box["width"] > 300 and box["height"] > 100, f"{chart} is not drawn: {box}")
        got = series(page, chart)
        check(sorted(got) == sorted(labels), f"{chart} series {sorted(got)} != {labels}")
    for run, (report, label) in enumerate(zip(reports, labels)):
        lat = report["latency_us"]
        for metric, key in [("p50", "p50"), ("p90", "p90"), ("p99", "p99"), ("p999", "p999"), ("max", "max")]:
            value, text = figure(page, metric, run)
            close(value, lat[key], f"{path} {metric}")
            check(text == shown_us(lat[key]), f"{path} {metric} shows {text!r}, --json says {lat[key]}")
        value, text = figure(page, "msgs_per_s", run)
        close(value, report["msgs_per_s"], f"{path} msgs/s")
        check(text == f"{report['msgs_per_s']:.0f} msgs/s", f"{path} msgs/s shows {text!r}")
        value, _ = figure(page, "messages", run)
        check(value == report["messages"], f"{path} messages {value} != {report['messages']}")
        # The curve ends at the maximum, and its median point is p50.
        curve = series(page, "percentiles")[label]
        check(len(curve) > 10, f"{path}: a curve of {len(curve)} points")
        close(max(y for _, y in curve), lat["max"], f"{path} curve max")
        below = [y for x, y in curve if x <= 2.0]
        close(below[-1], lat["p50"], f"{path} curve at 50%")
        # The throughput curve is the report's timeline, second by second.
        for chart, key in [("throughput", "messages"), ("errors", "errors")]:
            got = series(page, chart)[label]
            want = timeline_rates(report, key)
            check(len(got) == len(want), f"{path} {chart}: {len(got)} points, {len(want)} intervals")
            for (gx, gy), (wx, wy) in zip(got, want):
                close(gx, wx, f"{path} {chart} time", 1e-6)
                close(gy, wy, f"{path} {chart} rate", 1e-6)
        # The histogram's shares add up to all of the messages.
        shares = series(page, "histogram")[label]
        close(sum(y for _, y in shares), 100.0, f"{path} histogram total", 1e-6)
    title = page.inner_text("#title")
    check(title.startswith("sockmate bench"), title)


def report_mode():
    load = lambda name: json.load(open(f"{WHERE}/{name}"))
    a, b, merged = load("a.json"), load("b.json"), load("merged.json")
    with sync_playwright() as p:
        ctx = browser(p)
        page = ctx.new_page()
        page.set_default_timeout(DEADLINE * 1000)
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        check_page(page, f"{WHERE}/a.html", [a], ["run"])
        page.screenshot(path=f"{SHOTS}/bench-report.png", full_page=True)
        page.screenshot(path=f"{SHOTS}/bench-report-top.png", clip={"x": 0, "y": 0, "width": 1100, "height": 1350})
        check_page(ctx.new_page(), f"{WHERE}/b.html", [b], ["run"])
        page = ctx.new_page()
        check_page(page, f"{WHERE}/merged.html", [merged], ["merged (2 runs)"])
        check(merged["messages"] == a["messages"] + b["messages"], "merged messages add up")
        page = ctx.new_page()
        check_page(page, f"{WHERE}/cmp.html", [a, b], ["a.json", "b.json"])
        page.screenshot(path=f"{SHOTS}/bench-compare.png", full_page=True)
        check(not errors, f"page errors: {errors}")
        ctx.close()


def ui_mode():
    with sync_playwright() as p:
        ctx = browser(p)
        page = ctx.new_page()
        page.set_default_timeout(DEADLINE * 1000)
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        try:
            ui_scenario(page)
        except Exception:
            page.screenshot(path=f"{SHOTS}/ui-failure.png")
            print("page errors:", errors)
            raise
        check(not errors, f"page errors: {errors}")
        ctx.close()


def chart_rows(page, key):
    pts = page.get_attribute(f"#rate-bytes polyline[data-series={key}]", "data-points") or ""
    return [tuple(map(float, p.split(","))) for p in pts.split(";") if p]


def ui_scenario(page):
    page.goto(WHERE)
    page.wait_for_selector("#ws-status.online")
    page.select_option("#new-type", "tcp-server")
    page.fill("#new-addr", "127.0.0.1:0")
    page.click("#new-open")
    page.wait_for_selector(".session-item .dot.on")
    page.wait_for_selector("#session-local:not(:empty)")
    local = page.get_attribute("#session-local", "data-local").split("://")[-1]
    host, port = local.rsplit(":", 1)
    check(host == "127.0.0.1", local)
    client = socket.create_connection(("127.0.0.1", int(port)), timeout=DEADLINE)
    page.wait_for_selector("#client-list tr.client")
    chunk = b"x" * 2000
    sent = 0
    # Traffic for a while: until the chart has seen a few seconds of it.
    end = time.monotonic() + DEADLINE
    flowing = False
    while time.monotonic() < end:
        for _ in range(5):
            client.sendall(chunk)
            sent += len(chunk)
            time.sleep(0.02)
        rows = chart_rows(page, "bytes_in")
        if len(rows) >= 6 and all(r[1] > 0 for r in rows[-3:]):
            flowing = True
            break
    check(flowing, f"the rate chart shows no incoming bytes/s: {chart_rows(page, 'bytes_in')}")
    spark = page.get_attribute("#client-list tr.client .activity polyline.bytes_in", "data-points") or ""
    spark_rates = [float(p.split(",")[1]) for p in spark.split(";") if p]
    check(any(r > 0 for r in spark_rates), f"the client's sparkline is flat: {spark}")
    page.screenshot(path=f"{SHOTS}/ui-rates.png", clip={"x": 0, "y": 0, "width": 1100, "height": 420})
    # Traffic stops; the counters settle at what the client sent.
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        if page.get_attribute("#rate-chart", "data-bytes-in") == str(sent):
            break
        time.sleep(0.1)
    check(page.get_attribute("#rate-chart", "data-bytes-in") == str(sent),
          f"the chart's counter {page.get_attribute('#rate-chart', 'data-bytes-in')} != {sent} sent")
    # Wait for a chart drawn from the same stats as the counters beside it.
    end = time.monotonic() + DEADLINE
    state = None
    while time.monotonic() < end:
        state = page.evaluate("""() => ({
            chart: document.querySelector('#rate-chart').dataset.bytesIn,
            counter: document.querySelector('#count-rx').dataset.bytes,
            points: document.querySelector('#rate-bytes polyline[data-series=bytes_in]').dataset.points,
        })""")
        if state["chart"] == state["counter"]:
            break
        time.sleep(0.1)
    check(state["chart"] == state["counter"] == str(sent), f"chart and counters disagree: {state}")
    rows = [tuple(map(float, p.split(","))) for p in state["points"].split(";") if p]
    # Each rate times its interval adds up to the bytes counted in the
    # window the chart covers: at most what was sent, and all of it when
    # the whole exchange fits in the last minute.
    integral = sum(rate * dt for _, rate, dt in rows)
    check(integral <= sent + 0.5, f"the chart holds {integral} bytes, more than {sent} sent")
    check(abs(integral - sent) < 0.5, f"the chart's rates add up to {integral}, not {sent}")
    # Idle now: the latest rate falls back to zero.
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        last = chart_rows(page, "bytes_in")
        if last and last[-1][1] == 0:
            break
        time.sleep(0.1)
    check(chart_rows(page, "bytes_in")[-1][1] == 0, "the rate does not fall back to zero when idle")
    client.close()


if __name__ == "__main__":
    if MODE == "report":
        report_mode()
    elif MODE == "ui":
        ui_mode()
    else:
        raise SystemExit(f"unknown mode {MODE}")
    print("pictures: ok")
