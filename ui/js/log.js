// A session's receive pane: every event kept (up to a cap), shown as
// text, hex or both (switching re-renders past lines too), filtered by
// connection; pause, clear, auto-scroll that stops when the user scrolls
// up; saved as text or as JSON Lines (the `--json` schema).

import { h, hexRows, spacedHex, clock, download, peerName, escapeControls, mostlyBinary } from "./util.js";
import { t } from "./i18n.js";

/** Most events kept per session; the oldest go first. */
const KEEP = 20000;

export class Log {
  constructor() {
    this.entries = [];
    this.mode = "text";
    this.filter = "all";
    this.paused = false;
    this.held = 0;
    this.follow = true;
    this.conns = new Set();
    this.pane = h("div", { class: "log", id: "log", role: "log" });
    this.top = 0;
    this.pinned = 0;
    this.pane.addEventListener("scroll", () => {
      // A pane taken out of the page (another session shown) keeps its place.
      if (!this.pane.isConnected) return;
      const atEnd = this.pane.scrollTop + this.pane.clientHeight >= this.pane.scrollHeight - 24;
      // Only the user scrolling up stops following: a scroll event that
      // arrives after more lines came in is not that.
      if (atEnd) this.follow = true;
      else if (this.pane.scrollTop < this.pinned - 4) this.follow = false;
      this.top = this.pane.scrollTop;
      this.onfollow?.(this.follow);
    });
    // The pane shrinks when panels above it fill in (a client list): a
    // following log stays at its end.
    if (typeof ResizeObserver !== "undefined") {
      new ResizeObserver(() => { if (this.follow && this.pane.isConnected) this.toEnd(); }).observe(this.pane);
    }
  }

  /** Scrolls to the last line (and remembers where that was). */
  toEnd() {
    this.pane.scrollTop = this.pane.scrollHeight;
    this.pinned = this.pane.scrollTop;
  }

  /** Adds one event (`e` is a `--json` line; `text` decoded when data). */
  add(e) {
    this.entries.push(e);
    if (e.conn !== undefined) this.conns.add(e.conn);
    if (this.entries.length > KEEP) {
      this.entries.splice(0, this.entries.length - KEEP);
      if (this.pane.firstChild) this.pane.firstChild.remove();
    }
    if (this.paused) { this.held++; return; }
    this.append(e);
  }

  visible(e) {
    return this.filter === "all" || e.conn === undefined || String(e.conn) === this.filter;
  }

  append(e) {
    if (!this.visible(e)) return;
    this.pane.append(this.row(e));
    if (this.follow) this.toEnd();
  }

  /** Re-renders every kept event (after a view or filter change). */
  render() {
    this.pane.replaceChildren(...this.entries.filter((e) => this.visible(e)).map((e) => this.row(e)));
    if (this.follow) this.toEnd();
  }

  row(e) {
    const time = h("span", { class: "time" }, clock(e.time));
    const who = e.conn !== undefined ? h("span", { class: "peer" }, `#${e.conn} ${peerName(e.conn, e.peer)}`) : null;
    if (e.type === "data") {
      const rx = e.dir === "in";
      const dir = h("span", { class: `dir ${rx ? "rx" : "tx"}` }, rx ? `${t("bytesIn")} ←` : `${t("bytesOut")} →`);
      const len = h("span", { class: "len" }, `${e.len} B`);
      const body = h("div", { class: "body" });
      // Binary shows as its hex in the Text view, never as dots.
      const binary = mostlyBinary(e.text);
      if (this.mode === "text" && binary) body.append(h("pre", { class: "text binary" }, hexRows(e.hex)));
      else if (this.mode !== "hex") body.append(h("pre", { class: "text" }, escapeControls(e.text ?? "", true)));
      if (this.mode !== "text") body.append(h("pre", { class: "hex" }, hexRows(e.hex)));
      return h("div", { class: `row data ${rx ? "in" : "out"}` }, h("div", { class: "meta" }, time, dir, who, len), body);
    }
    return h("div", { class: `row event ${e.type}` }, h("div", { class: "meta" }, time, h("span", { class: "kind" }, e.type), who,
      h("span", { class: "what" }, describe(e))));
  }

  /** The pane is in the page again: scrolled to the end when following,
   * else back where the user left it. */
  attached() {
    if (this.follow) this.toEnd();
    else this.pane.scrollTop = this.top;
  }

  setMode(m) { this.mode = m; this.render(); }
  setFilter(f) { this.filter = f; this.render(); }
  setPaused(p) {
    this.paused = p;
    if (!p) { this.held = 0; this.render(); }
  }
  clear() { this.entries = []; this.held = 0; this.pane.replaceChildren(); }
  jump() { this.follow = true; this.toEnd(); }

  /** The log as text, as it is shown (view and filter): one line per
   * entry, control bytes escaped as the terminal view does (`\x00`, `\r`,
   * `\n`), so it is plain text. */
  asText() {
    return this.entries.filter((e) => this.visible(e)).map((e) => {
      const head = `[${clock(e.time)}] ${e.conn !== undefined ? `#${e.conn} ${escapeControls(peerName(e.conn, e.peer), false)} ` : ""}`;
      if (e.type !== "data") return `${head}${e.type} ${escapeControls(describe(e), false)}`;
      const arrow = e.dir === "in" ? "<" : ">";
      const parts = [];
      if (this.mode !== "hex") parts.push(escapeControls(e.text ?? "", false));
      if (this.mode !== "text") parts.push(spacedHex(e.hex));
      return `${head}${arrow} ${e.len} B ${parts.join(" | ")}`;
    }).join("\n") + "\n";
  }

  /** The log as JSON Lines: one `--json` event per line. */
  asJsonLines() {
    return this.entries.filter((e) => this.visible(e)).map((e) => JSON.stringify(e)).join("\n") + "\n";
  }

  save(kind, name) {
    if (kind === "json") download(`${name}.jsonl`, this.asJsonLines(), "application/x-ndjson");
    else download(`${name}.txt`, this.asText(), "text/plain");
  }
}

function describe(e) {
  switch (e.type) {
    case "listening": return `${e.endpoint}${e.note ? " " + e.note : ""}`;
    case "open": return `local ${e.local}`;
    case "close": return `${e.reason} (in ${e.bytes_in} B/${e.msgs_in}, out ${e.bytes_out} B/${e.msgs_out})`;
    case "eof": return e.dir === "in" ? "peer ended its writes" : "we ended our writes";
    case "error": return e.message;
    case "notice": return e.message;
    case "scan_port": return `${e.port}/${e.proto} ${e.state}${e.error ? ` (${e.error})` : ""}`;
    case "scan_done": return `${e.ports} ${e.proto} ports of ${e.host}: ${e.open} open, ${e.closed} closed, ${e.filtered} filtered`
      + `${e.open_filtered ? `, ${e.open_filtered} open|filtered` : ""} in ${Number(e.duration_s).toFixed(2)}s`;
    case "transfer_start": return `${e.verb === "sent" ? "sending" : "receiving"} ${e.file}${e.size == null ? "" : ` (${e.size} B)`}${e.offset ? ` from byte ${e.offset}` : ""}`;
    case "transfer_progress": return `${e.file}: ${e.bytes}${e.size == null ? "" : `/${e.size}`} B`;
    case "transfer_done": return `${e.file}: ${e.bytes} B in ${Number(e.duration_s).toFixed(2)}s`
      + `${e.digest ? `, ${e.digest_alg} ${e.digest}${e.digest_ok ? " ok" : ""}` : ""}`;
    case "bench_sample": return `${e.second}s: ${e.messages} msgs, ${e.errors} errors, p50 ${e.latency_us.p50} µs`;
    default: return "";
  }
}
