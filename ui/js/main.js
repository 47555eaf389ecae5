// The app: one WebSocket, the sessions sockmate runs (each with its own
// log and counters), the selected session's view (header with live
// counters, client list, receive pane, send box), the language switch.

import { Conn } from "./conn.js";
import { Log } from "./log.js";
import { SendBox, ENCODINGS, offerEncodings } from "./send.js";
import { newSessionForm, sessionList } from "./sessions.js";
import { h, bytes, duration, peerName } from "./util.js";
import { t, toggle, tr } from "./i18n.js";
import { RateHistory, drawRates, sparkline } from "./charts.js";

const conn = new Conn();
const sessions = new Map();
let selected = null;
let target = "all";

class SessionState {
  constructor(info) {
    this.info = info;
    this.log = new Log();
    this.stats = null;
    this.base = { total: zero(), conns: {} };
    this.since = info.started_ms || Date.now();
    this.lastQ = 0;
    this.rates = new RateHistory();
  }
  shownTotal() { return this.stats ? minus(this.stats.total, this.base.total) : null; }
  shownConn(c) { return minus(c.counters, this.base.conns[c.conn] || zero()); }
  reset() {
    if (!this.stats) return;
    this.base.total = { ...this.stats.total };
    for (const c of this.stats.conns) this.base.conns[c.conn] = { ...c.counters };
    this.since = Date.now();
  }
}

function zero() { return { bytes_in: 0, bytes_out: 0, msgs_in: 0, msgs_out: 0 }; }
function minus(a, b) {
  return { bytes_in: a.bytes_in - b.bytes_in, bytes_out: a.bytes_out - b.bytes_out,
    msgs_in: a.msgs_in - b.msgs_in, msgs_out: a.msgs_out - b.msgs_out };
}

const root = document.getElementById("root");
const toast = h("div", { class: "toast", id: "toast" });
const sendBox = new SendBox(conn, () => (selected ? { session: selected, conn: target === "all" ? null : Number(target) } : null), notify);

function notify(message, bad) {
  toast.textContent = bad ? tr(message) : message;
  toast.className = `toast show ${bad ? "bad" : ""}`;
  clearTimeout(notify.timer);
  notify.timer = setTimeout(() => { toast.className = "toast"; }, bad ? 6000 : 2500);
}

conn.onstate = (state) => {
  if (state === "ended") {
    // sockmate has exited: nothing runs any more.
    for (const s of sessions.values()) { s.info = { ...s.info, running: false }; s.stats = null; }
    render();
  }
  renderHeader();
};
conn.on((m) => {
  if (m.t === "hello") {
    // The server's encodings, before any session is described.
    ENCODINGS.splice(0, ENCODINGS.length, ...m.encodings);
    offerEncodings(sendBox.encoding);
    const fresh = document.getElementById("new-encoding");
    if (fresh) offerEncodings(fresh);
    render();
  } else if (m.t === "session") {
    if (m.removed) {
      sessions.delete(m.s);
      if (selected === m.s) selected = sessions.keys().next().value ?? null;
      render();
      return;
    }
    const s = sessions.get(m.s);
    if (s) {
      // Started again: the duration counts from the new start.
      if (m.started_ms && m.started_ms !== s.info.started_ms) s.since = m.started_ms;
      s.info = m;
    } else sessions.set(m.s, new SessionState(m));
    if (selected === null) selected = m.s;
    render();
  } else if (m.t === "history") {
    // The kept events follow; older ones were dropped.
    const s = sessions.get(m.s);
    if (s && s.lastQ === 0 && m.dropped > 0) {
      s.log.add({ type: "notice", time: new Date().toISOString(), message: `${m.dropped} ${t("dropped")}` });
    }
  } else if (m.t === "ev") {
    let s = sessions.get(m.s);
    if (!s) return;
    // A replayed event that also came live is shown once.
    if (m.q !== undefined) {
      if (m.q <= s.lastQ) return;
      s.lastQ = m.q;
    }
    s.log.add(m.e);
    if (m.e.type === "open" && s.info.kind === "client" && m.e.local) {
      // A client's own address is known once it has connected.
      s.local = m.e.local;
      const el = document.getElementById("session-local");
      if (m.s === selected && el) { el.textContent = `@ ${s.local}`; el.dataset.local = s.local; }
    }
    if (m.s === selected && m.e.conn !== undefined) refreshFilter(s);
  } else if (m.t === "stats") {
    const s = sessions.get(m.s);
    if (!s) return;
    s.stats = m;
    s.rates.push(m);
    if (m.s === selected) renderLive(s);
    renderList();
  } else if (m.t === "skipped") {
    const s = sessions.get(selected);
    if (s) s.log.add({ type: "notice", time: new Date().toISOString(), message: `${m.n} ${t("skipped")}` });
  }
});

const layout = {
  header: h("header", { class: "top" }),
  side: h("aside", { class: "side" }),
  main: h("main", { class: "main" }),
};
root.append(layout.header, h("div", { class: "body" }, layout.side, layout.main), toast);

function renderHeader() {
  layout.header.replaceChildren(
    h("div", { class: "brand" }, h("span", { class: "logo" }, "◆"), " sockmate ", h("span", { class: "subtitle" }, t("title"))),
    h("span", { class: "grow" }),
    h("span", { class: `status ${conn.state}`, id: "ws-status" }, "● ", t(conn.state)),
    h("button", { class: "ghost", id: "lang-toggle", onclick: () => { toggle(); rebuild(); } }, t("lang")));
}

let listBox = null;
function renderList() {
  const list = sessionList(sessions, selected, (id) => { selected = id; target = "all"; render(); });
  if (listBox) listBox.replaceWith(list);
  listBox = list;
}

async function openSession(cmd) {
  const r = await conn.request(cmd);
  if (!r.ok) { notify(r.error, true); return; }
  selected = r.session;
  target = "all";
  render();
}

function render() {
  if (!layout.side.firstChild) layout.side.append(newSessionForm(openSession));
  renderList();
  if (!listBox.isConnected) layout.side.append(listBox);
  renderMain();
}

function rebuild() {
  layout.side.replaceChildren();
  listBox = null;
  sendBox.rebuild();
  renderHeader();
  for (const s of sessions.values()) s.log.render();
  live.key = null;
  render();
}

const live = { counters: null, rates: null, clients: null, filter: null, key: null };

let shown = null;

function renderMain() {
  const s = sessions.get(selected);
  if (!s) {
    layout.main.replaceChildren(h("div", { class: "empty" }, h("p", {}, t("noSessions"))));
    return;
  }
  const i = s.info;
  if (shown !== i.s) {
    // A new session: the send box starts with its encoding.
    shown = i.s;
    const enc = (i.encoding || "").toLowerCase();
    if ([...sendBox.encoding.options].some((o) => o.value === enc)) sendBox.encoding.value = enc;
  }
  const control = (label, cmd, id) => h("button", { id, onclick: async () => {
    const r = await conn.request({ cmd, session: i.s });
    if (!r.ok) notify(r.error, true);
  } }, label);
  live.counters = h("div", { class: "counters", id: "counters" });
  live.rates = h("div", { class: "rates", id: "rate-chart" });
  live.clients = h("div", { class: "clients", id: "clients" });
  live.key = null;
  live.filter = h("select", { id: "log-filter", onchange: () => s.log.setFilter(live.filter.value) });
  const view = h("select", { id: "view-mode", onchange: () => s.log.setMode(view.value) },
    ...[["text", t("text")], ["hex", t("hex")], ["both", t("both")]].map(([v, l]) => h("option", { value: v, selected: s.log.mode === v }, l)));
  const recvEnc = h("select", { id: "recv-encoding", onchange: async () => {
    const r = await conn.request({ cmd: "set_encoding", session: i.s, encoding: recvEnc.value });
    if (!r.ok) notify(r.error, true);
  } }, ...ENCODINGS.map((e) => h("option", { value: e, selected: e === (i.encoding || "").toLowerCase() }, e)));
  const pause = h("button", { id: "log-pause", onclick: () => {
    s.log.setPaused(!s.log.paused);
    pause.textContent = s.log.paused ? t("resume") : t("pause");
    pause.classList.toggle("on", s.log.paused);
  } }, s.log.paused ? t("resume") : t("pause"));
  const jump = h("button", { class: "jump", id: "log-jump", hidden: s.log.follow, onclick: () => { s.log.jump(); jump.hidden = true; } }, `↓ ${t("scrolledUp")}`);
  s.log.onfollow = (atEnd) => { jump.hidden = atEnd; };
  const recPath = h("input", { id: "record-path", placeholder: t("recordPath"), value: i.recording || "", spellcheck: "false" });
  const recBtn = h("button", { id: "record-btn", onclick: async () => {
    const path = i.recording ? null : recPath.value;
    const r = await conn.request({ cmd: "record", session: i.s, path });
    if (!r.ok) notify(r.error, true);
  } }, i.recording ? t("stopRecord") : t("record"));
  const name = `sockmate-${i.s}-${new Date().toISOString().replace(/[:.]/g, "-")}`;
  const local = i.kind === "client" ? (s.local || i.local || "") : (i.local || "");
  layout.main.replaceChildren(
    h("section", { class: "panel head" },
      h("div", { class: "title" },
        h("span", { class: `dot ${i.running ? "on" : "off"}` }),
        h("h1", { id: "session-label" }, i.label),
        h("span", { class: "muted", id: "session-local", "data-local": local, title: t("localAddr") }, local ? `@ ${local}` : ""),
        i.error ? h("span", { class: "error" }, tr(i.error)) : null,
        h("span", { class: "grow" }),
        i.role !== "cli" ? control(t("restart"), "restart", "session-restart") : null,
        control(t("stop"), "stop", "session-stop"),
        i.role !== "cli" ? control(t("remove"), "remove", "session-remove") : null),
      h("div", { class: "livebar" }, live.counters, live.rates)),
    live.clients,
    h("section", { class: "panel recv" },
      h("div", { class: "toolbar" },
        h("strong", {}, t("receive")),
        h("label", {}, t("view"), " ", view),
        h("label", {}, t("filter"), " ", live.filter),
        h("label", {}, t("encoding"), " ", recvEnc),
        pause,
        h("button", { id: "log-clear", onclick: () => s.log.clear() }, t("clear")),
        h("span", { class: "grow" }),
        h("button", { id: "save-text", onclick: () => s.log.save("text", name) }, t("saveText")),
        h("button", { id: "save-json", onclick: () => s.log.save("json", name) }, t("saveJson"))),
      h("div", { class: "logwrap" }, s.log.pane, jump),
      h("div", { class: "toolbar small" }, recPath, recBtn,
        i.recording ? h("span", { class: "muted" }, `${t("recording")} ${i.recording}`) : null)),
    ...(i.kind === "relay" || i.kind === "scan" || i.kind === "transfer" ? [] : [h("section", { class: "panel send" }, sendBox.el)]));
  refreshFilter(s);
  renderLive(s);
  // Back where it was: at the end when following, else where the user left it.
  s.log.attached();
}

function refreshFilter(s) {
  if (!live.filter) return;
  const want = ["all", ...[...s.log.conns].sort((a, b) => a - b).map(String)];
  const have = [...live.filter.options].map((o) => o.value);
  if (want.join() === have.join()) return;
  live.filter.replaceChildren(...want.map((v) => h("option", { value: v, selected: v === s.log.filter }, v === "all" ? t("all") : `#${v}`)));
}

function renderLive(s) {
  if (!live.counters) return;
  const tot = s.shownTotal() || zero();
  const cell = (label, id, b, m) => h("div", { class: `counter ${id}`, id: `count-${id}`, "data-msgs": m, "data-bytes": b },
    h("span", { class: "clabel" }, label), h("span", { class: "cval" }, bytes(b)), h("span", { class: "cmsgs" }, `${m} ${t("msgs")}`));
  live.counters.replaceChildren(
    cell(t("bytesIn"), "rx", tot.bytes_in, tot.msgs_in),
    cell(t("bytesOut"), "tx", tot.bytes_out, tot.msgs_out),
    h("div", { class: "counter dur" }, h("span", { class: "clabel" }, t("duration")), h("span", { class: "cval", id: "count-duration", "data-since": s.since }, s.info.running ? duration(Date.now() - s.since) : "—")),
    h("button", { id: "count-reset", onclick: () => { s.reset(); renderLive(s); } }, t("reset")));
  drawRates(live.rates, s.rates);
  const conns = s.stats ? s.stats.conns : [];
  const kind = s.info.kind;
  if (kind === "client" || kind === "scan" || kind === "transfer") { live.clients.replaceChildren(); live.clients.hidden = true; return; }
  // A relay's pairs carry their client's bytes: disconnect only, no send.
  const relay = kind === "relay";
  live.clients.hidden = false;
  if (target !== "all" && !conns.some((c) => String(c.conn) === target)) target = "all";
  const key = `${s.info.s}:${conns.map((c) => c.conn).join(",")}`;
  const traffic = (c) => {
    const x = s.shownConn(c);
    return `${bytes(x.bytes_in)} (${x.msgs_in}) / ${bytes(x.bytes_out)} (${x.msgs_out})`;
  };
  if (key === live.key) {
    // Same clients: update the numbers in place (menus and buttons stay).
    for (const c of conns) {
      const row = live.clients.querySelector(`tr.client[data-conn="${c.conn}"]`);
      if (!row) continue;
      row.querySelector(".age").textContent = duration(c.age_ms);
      row.querySelector(".traffic").textContent = traffic(c);
      row.querySelector(".activity").replaceChildren(sparkline(s.rates, c.conn));
    }
    return;
  }
  live.key = key;
  const targetSel = h("select", { id: "send-target", onchange: () => { target = targetSel.value; } },
    h("option", { value: "all", selected: target === "all" }, t("all")),
    ...conns.map((c) => h("option", { value: String(c.conn), selected: String(c.conn) === target }, `#${c.conn} ${peerName(c.conn, c.peer)}`)));
  const rows = conns.map((c) => h("tr", { class: "client", "data-conn": c.conn },
    h("td", {}, `#${c.conn}`), h("td", { class: "mono" }, peerName(c.conn, c.peer)), h("td", { class: "age" }, duration(c.age_ms)),
    h("td", { class: "mono traffic" }, traffic(c)),
    h("td", { class: "activity" }, sparkline(s.rates, c.conn)),
    h("td", { class: "actions" },
      relay ? null : h("button", { class: "client-send", onclick: () => sendTo(s, c.conn) }, t("send")),
      h("button", { class: "client-close danger", onclick: async () => {
        const r = await conn.request({ cmd: "close", session: s.info.s, conn: c.conn });
        if (!r.ok) notify(r.error, true);
      } }, t("disconnect")))));
  live.clients.replaceChildren(h("section", { class: "panel" },
    h("div", { class: "toolbar" }, h("strong", {}, `${relay ? t("pairs") : t("clients")} (${conns.length})`), h("span", { class: "grow" }),
      relay ? h("span", { class: "muted" }, `→ ${s.info.label.split(" → ")[1] || ""}`) : h("label", {}, t("to"), " ", targetSel),
      relay ? null : h("button", { id: "send-all", onclick: () => sendTo(s, null) }, t("sendAll"))),
    conns.length ? h("table", { class: "clientlist", id: "client-list" },
      h("thead", {}, h("tr", {}, h("th", {}, "#"), h("th", {}, relay ? t("client") : t("peer")), h("th", {}, t("age")), h("th", {}, t("traffic")), h("th", {}, t("lastMinute")), h("th", {}, ""))),
      h("tbody", {}, ...rows)) : h("p", { class: "muted", id: "client-list" }, t("noClients"))));
}

async function sendTo(s, c) {
  const msg = sendBox.current();
  const r = await conn.request({ cmd: "send", session: s.info.s, conn: c, ...msg });
  if (!r.ok) notify(r.error, true); else sendBox.remember(msg);
}

setInterval(() => { const s = sessions.get(selected); if (s) renderLive(s); }, 1000);
renderHeader();
render();
