// Live rates: a session's bytes/s and messages/s, in and out, over the
// last minute, and a sparkline per client in a server's client list. The
// counters come from the `stats` messages (twice a second); a rate is the
// difference between two of them divided by the time between them. Plain
// SVG, no library.

import { t } from "./i18n.js";

/** How far back the charts look. */
export const WINDOW_MS = 60000;

const SVG = "http://www.w3.org/2000/svg";
const KEYS = ["bytes_in", "bytes_out", "msgs_in", "msgs_out"];
const RX = "#0f766e";
const TX = "#b45309";

/** The counters one session's `stats` messages carried over the last
 * minute: the session's total and each live connection's. */
export class RateHistory {
  constructor() {
    this.total = [];
    this.conns = new Map();
  }

  /** Adds one `stats` message, received at `now` (ms). */
  push(stats, now = Date.now()) {
    keep(this.total, now, stats.total);
    const live = new Set();
    for (const c of stats.conns || []) {
      live.add(c.conn);
      if (!this.conns.has(c.conn)) this.conns.set(c.conn, []);
      keep(this.conns.get(c.conn), now, c.counters);
    }
    for (const id of [...this.conns.keys()]) if (!live.has(id)) this.conns.delete(id);
  }

  /** The session's rates: [{t, bytes_in, bytes_out, msgs_in, msgs_out}] per second. */
  rates() { return rates(this.total); }

  /** One connection's rates. */
  connRates(conn) { return rates(this.conns.get(conn) || []); }
}

function keep(list, now, counters) {
  const c = counters || {};
  list.push({ t: now, bytes_in: c.bytes_in || 0, bytes_out: c.bytes_out || 0, msgs_in: c.msgs_in || 0, msgs_out: c.msgs_out || 0 });
  // One sample before the window, so the first rate in it is whole.
  while (list.length > 2 && list[1].t < now - WINDOW_MS) list.shift();
}

function rates(list) {
  const out = [];
  for (let i = 1; i < list.length; i++) {
    const [a, b] = [list[i - 1], list[i]];
    const dt = (b.t - a.t) / 1000;
    if (dt <= 0) continue;
    const r = { t: b.t, dt };
    // A counter that went down (a restarted session) counts from zero.
    for (const k of KEYS) r[k] = Math.max(0, b[k] - (b[k] >= a[k] ? a[k] : 0)) / dt;
    out.push(r);
  }
  return out;
}

function el(tag, attrs, ...children) {
  const e = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, String(v));
  for (const c of children) if (c) e.append(c);
  return e;
}

function text(x, y, s, attrs) {
  const e = el("text", { x, y, ...attrs });
  e.textContent = s;
  return e;
}

/** 1536 -> "1.5k". */
export function short(v) {
  const units = [[1e9, "G"], [1e6, "M"], [1e3, "k"]];
  for (const [n, u] of units) if (v >= n) return `${(v / n).toFixed(v / n < 10 ? 1 : 0)}${u}`;
  return v >= 10 || v === 0 ? String(Math.round(v)) : v.toFixed(1);
}

/** A round top for an axis whose highest value is `v`. */
function niceTop(v) {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 5, 10]) if (v <= m * p) return m * p;
  return 10 * p;
}

/** One chart of `rates` (keys `inKey`, `outKey`) over the last minute
 * before `now`: a title, the y axis's top, "-60 s" and "now" under it. */
function panel(id, title, unit, rows, inKey, outKey, now) {
  const [w, h, left, top, bottom] = [300, 84, 34, 16, 12];
  const pw = w - left - 4;
  const ph = h - top - bottom;
  const max = niceTop(Math.max(0, ...rows.map((r) => Math.max(r[inKey], r[outKey]))));
  const x = (ms) => left + pw * Math.min(1, Math.max(0, 1 - (now - ms) / WINDOW_MS));
  const y = (v) => top + ph * (1 - v / max);
  const svg = el("svg", { id, class: "rate-panel", viewBox: `0 0 ${w} ${h}`, "data-max": max });
  svg.append(
    text(left, 11, `${title} (${unit})`, { class: "rt" }),
    el("rect", { x: left, y: top, width: pw, height: ph, class: "rf" }),
    el("line", { x1: left, x2: left + pw, y1: y(max / 2), y2: y(max / 2), class: "rg" }),
    text(left - 3, top + 8, short(max), { class: "rl", "text-anchor": "end" }),
    text(left - 3, top + ph, "0", { class: "rl", "text-anchor": "end" }),
    text(left, h - 2, "-60 s", { class: "rl" }),
    text(left + pw, h - 2, t("now"), { class: "rl", "text-anchor": "end" }));
  for (const [key, color, name] of [[inKey, RX, t("bytesIn")], [outKey, TX, t("bytesOut")]]) {
    const pts = rows.map((r) => `${x(r.t).toFixed(1)},${y(r[key]).toFixed(1)}`).join(" ");
    svg.append(el("polyline", {
      class: `rate-line ${key}`, points: pts, stroke: color, fill: "none", "stroke-width": 1.6,
      "data-series": key, "data-points": rows.map((r) => `${r.t},${r[key]},${r.dt}`).join(";"),
    }));
    const last = rows.length ? rows[rows.length - 1][key] : 0;
    svg.append(text(key === inKey ? left + pw - 64 : left + pw, 11, `${name} ${short(last)}`, { class: `rv ${key}`, fill: color, "text-anchor": "end" }));
  }
  return svg;
}

/** Redraws the session's live chart in `box`: bytes/s and messages/s in
 * and out over the last minute. The counters it was drawn from sit in
 * `data-*` attributes of the box. */
export function drawRates(box, history, now = Date.now()) {
  if (!box) return;
  const rows = history.rates();
  const last = history.total[history.total.length - 1];
  for (const k of KEYS) box.dataset[k.replace(/_(.)/, (_, c) => c.toUpperCase())] = last ? last[k] : 0;
  box.dataset.samples = rows.length;
  box.replaceChildren(
    panel("rate-bytes", t("bytesPerS"), "B/s", rows, "bytes_in", "bytes_out", now),
    panel("rate-msgs", t("msgsPerS"), t("msgs") + "/s", rows, "msgs_in", "msgs_out", now));
}

/** A client's sparkline: its bytes/s in and out over the last minute. */
export function sparkline(history, conn, now = Date.now()) {
  const rows = history.connRates(conn);
  const [w, h] = [120, 22];
  const max = niceTop(Math.max(0, ...rows.map((r) => Math.max(r.bytes_in, r.bytes_out))));
  const x = (ms) => w * Math.min(1, Math.max(0, 1 - (now - ms) / WINDOW_MS));
  const y = (v) => h - 1 - (h - 2) * (v / max);
  const svg = el("svg", { class: "spark", viewBox: `0 0 ${w} ${h}`, width: w, height: h, "data-conn": conn, "data-max": max });
  const title = el("title");
  const last = rows[rows.length - 1];
  title.textContent = last ? `${t("bytesIn")} ${short(last.bytes_in)} B/s · ${t("bytesOut")} ${short(last.bytes_out)} B/s` : "";
  svg.append(title, el("line", { x1: 0, x2: w, y1: h - 0.5, y2: h - 0.5, stroke: "#dde2ea" }));
  for (const [key, color] of [["bytes_in", RX], ["bytes_out", TX]]) {
    svg.append(el("polyline", {
      class: `spark-line ${key}`, points: rows.map((r) => `${x(r.t).toFixed(1)},${y(r[key]).toFixed(1)}`).join(" "),
      stroke: color, fill: "none", "stroke-width": 1.3, "data-points": rows.map((r) => `${r.t},${r[key]},${r.dt}`).join(";"),
    }));
  }
  return svg;
}
