// The left side: the "new session" form (TCP client/server, UDP with a
// local port and broadcast, Unix, or any endpoint string sockmate takes)
// and the list of sessions.

import { h, stored } from "./util.js";
import { t } from "./i18n.js";
import { ENCODINGS, savedRespond } from "./send.js";

const last = stored("sockmate.lastOpen", { type: "tcp-client", addr: "127.0.0.1:9000", local: "" });

/** The command that opens a session of `type` at `addr`. */
export function openCommand(type, addr, local, broadcast, reconnect, encoding, respond) {
  const a = addr.trim();
  const scheme = (s) => (a.includes("://") ? a : `${s}://${a}`);
  const unix = a.startsWith("unix") ? a : `unix://${a.startsWith("/") || a.startsWith("@") ? "" : "/"}${a}`;
  const cmd = { cmd: "open", encoding, respond: respond || [] };
  switch (type) {
    case "tcp-client": return { ...cmd, role: "connect", endpoint: scheme("tcp"), reconnect };
    case "tcp-server": return { ...cmd, role: "listen", endpoint: a.includes("://") || /^\d+$/.test(a) ? a : `tcp://${a}` };
    case "udp":
      // A remote peer: a UDP client from the local port; none: a UDP server on it.
      if (a) return { ...cmd, role: "connect", endpoint: scheme("udp"), bind: local ? (local.includes(":") ? local : `0.0.0.0:${local}`) : null, broadcast };
      return { ...cmd, role: "listen", endpoint: `udp://${local.includes(":") ? local : `127.0.0.1:${local || 0}`}`, broadcast };
    case "unix-client": return { ...cmd, role: "connect", endpoint: unix, reconnect };
    case "unix-server": return { ...cmd, role: "listen", endpoint: unix };
    case "any-listen": return { ...cmd, role: "listen", endpoint: a };
    case "scan": {
      // "HOST PORTS", as sockmate scan takes them.
      const [host, ...ports] = a.split(/\s+/);
      return { ...cmd, role: "scan", endpoint: host, ports: ports.join(",") };
    }
    case "receive": {
      // "ENDPOINT [FOLDER]": files go into FOLDER in the record directory.
      const [endpoint, dir] = a.split(/\s+/);
      return { ...cmd, role: "receive", endpoint, dir: dir || null };
    }
    default: return { ...cmd, role: "connect", endpoint: a, reconnect };
  }
}

export function newSessionForm(onopen) {
  const saved = last.get();
  const types = [["tcp-client", t("tcpClient")], ["tcp-server", t("tcpServer")], ["udp", t("udp")],
    ["unix-client", t("unixClient")], ["unix-server", t("unixServer")], ["any-connect", t("anyConnect")],
    ["any-listen", t("anyListen")], ["scan", t("portScan")], ["receive", t("receiveFiles")]];
  const type = h("select", { id: "new-type" }, ...types.map(([v, l]) => h("option", { value: v, selected: v === saved.type }, l)));
  const addr = h("input", { id: "new-addr", value: saved.addr, placeholder: "127.0.0.1:9000 · tls://… · ws://… · serial://…", spellcheck: "false" });
  const local = h("input", { id: "new-local", value: saved.local, placeholder: "9001", class: "num" });
  const broadcast = h("input", { type: "checkbox", id: "new-broadcast" });
  const reconnect = h("input", { type: "checkbox", id: "new-reconnect" });
  const encoding = h("select", { id: "new-encoding" }, ...ENCODINGS.map((e) => h("option", { value: e }, e)));
  const udpRow = h("div", { class: "field udp-only" }, h("label", {}, t("localPort")), local, h("label", { class: "check" }, broadcast, t("broadcast")));
  const clientRow = h("label", { class: "check client-only" }, reconnect, t("reconnect"));
  // A server's --respond rules, one MATCH=>REPLY per line.
  const respond = h("textarea", { id: "new-respond", rows: 2, spellcheck: "false", placeholder: "PING=>PONG\\n" });
  respond.value = savedRespond().join("\n");
  const respondRow = h("div", { class: "field server-only" }, h("label", {}, t("respondRules")), respond);
  const sync = () => {
    respondRow.hidden = !["tcp-server", "unix-server", "any-listen", "udp"].includes(type.value);
    udpRow.hidden = type.value !== "udp";
    clientRow.hidden = !type.value.includes("client") && type.value !== "any-connect";
  };
  type.onchange = sync;
  sync();
  const button = h("button", { class: "primary", id: "new-open", onclick: () => {
    last.set({ type: type.value, addr: addr.value, local: local.value });
    const rules = respond.value.split("\n").filter((l) => l.trim());
    onopen(openCommand(type.value, addr.value, local.value, broadcast.checked, reconnect.checked, encoding.value, rules));
  } }, t("open"));
  addr.addEventListener("keydown", (e) => { if (e.key === "Enter") button.click(); });
  return h("section", { class: "panel newsession" },
    h("h2", {}, t("newSession")),
    h("div", { class: "field" }, h("label", {}, t("type")), type),
    h("div", { class: "field" }, h("label", {}, t("address")), addr),
    udpRow,
    h("div", { class: "field" }, h("label", {}, t("encoding")), encoding),
    respondRow,
    h("div", { class: "field row" }, clientRow, h("span", { class: "grow" }), button));
}

/** The list of sessions; `select(id)` when one is clicked. */
export function sessionList(sessions, selected, select) {
  const items = [...sessions.values()].map((s) => {
    const i = s.info;
    const total = s.shownTotal();
    return h("li", { class: `session-item ${i.s === selected ? "selected" : ""}`, "data-session": i.s, onclick: () => select(i.s) },
      h("span", { class: `dot ${i.running ? "on" : "off"}`, title: i.running ? t("running") : t("stopped") }),
      h("div", { class: "grow" },
        h("div", { class: "label" }, `${i.kind === "relay" ? "⇆ " : i.kind === "server" ? "⇄ " : i.kind === "scan" ? "⌕ " : "→ "}${i.role === "cli" ? "⌨ " : ""}${i.label}`),
        h("div", { class: "sub" }, i.local || "", total ? ` · ${t("bytesIn")} ${total.msgs_in} / ${t("bytesOut")} ${total.msgs_out}` : "")));
  });
  return h("section", { class: "panel sessions" }, h("h2", {}, t("sessions")),
    items.length ? h("ul", { class: "session-list" }, ...items) : h("p", { class: "muted" }, t("noSessions")));
}
