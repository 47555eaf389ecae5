// The send box: text, hex (checked as you type by sockmate's own parser,
// the bad token marked) or a `--send-template` template (macros and
// checksums, its bytes previewed as you type), encoding, line ending,
// escapes, send a file, auto-send every N ms × M, history and saved
// messages (localStorage) with a quick-send panel (one click each),
// imported from and exported to the CLI's `--profile` TOML. The server
// encodes text and renders templates, so every encoding works.

import { h, base64, stored, spacedHex, download } from "./util.js";
import { t } from "./i18n.js";

/** The encodings to offer: the server's list, from its `hello` (the page
 * keeps no copy of its own). */
export const ENCODINGS = [];

/** Fills a <select> with ENCODINGS, keeping its choice (or `fallback`). */
export function offerEncodings(select, fallback = "utf-8") {
  const keep = select.value || fallback;
  select.replaceChildren(...ENCODINGS.map((e) => h("option", { value: e, selected: e === keep }, e)));
}

const history = stored("sockmate.history", []);
const saved = stored("sockmate.saved", []);

export class SendBox {
  /** `target()` gives {session, conn|null}; `notify(msg, bad)` shows a status. */
  constructor(conn, target, notify) {
    this.conn = conn;
    this.target = target;
    this.notify = notify;
    this.format = "text";
    this.valid = true;
    this.checking = 0;
    this.el = this.build();
  }

  build() {
    const sel = (id, options, value) => h("select", { id },
      ...options.map(([v, label]) => h("option", { value: v, selected: v === value }, label)));
    this.input = h("textarea", { id: "send-input", rows: 3, spellcheck: "false", oninput: () => this.check() });
    this.mark = h("div", { class: "hexmark", id: "hex-mark" });
    this.status = h("span", { class: "hexstatus", id: "hex-status" });
    this.formatSel = sel("send-format", [["text", t("text")], ["hex", t("hex")], ["template", t("template")]], this.format);
    this.preview = h("span", { class: "preview mono", id: "send-preview" });
    this.quick = h("div", { class: "quick", id: "quick-send" });
    this.importer = h("input", { type: "file", id: "profile-import", class: "hidden", accept: ".toml,text/plain", onchange: () => this.importProfile() });
    this.formatSel.onchange = () => { this.format = this.formatSel.value; this.check(); };
    this.encoding = sel("send-encoding", ENCODINGS.map((e) => [e, e]), "utf-8");
    this.eol = sel("send-eol", [["none", t("none")], ["lf", "LF \\n"], ["crlf", "CRLF \\r\\n"]], "none");
    this.escapes = h("input", { type: "checkbox", id: "send-escapes" });
    this.every = h("input", { type: "number", id: "auto-every", min: 1, value: 1000, class: "num" });
    this.times = h("input", { type: "number", id: "auto-times", min: 1, value: 10, class: "num" });
    this.file = h("input", { type: "file", id: "send-file", class: "hidden", onchange: () => this.sendFile() });
    this.historySel = h("select", { id: "send-history", onchange: () => this.recall(this.historySel) });
    this.savedSel = h("select", { id: "send-saved", onchange: () => this.recall(this.savedSel) });
    this.sendBtn = h("button", { class: "primary", id: "send-btn", onclick: () => this.send() }, t("send"));
    this.input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); this.send(); }
    });
    this.fillLists();
    return h("div", { class: "sendbox" },
      h("div", { class: "toolbar" },
        h("label", {}, t("send"), " ", this.formatSel),
        h("label", {}, t("encoding"), " ", this.encoding),
        h("label", {}, t("eol"), " ", this.eol),
        h("label", { class: "check" }, this.escapes, t("escapes")),
        h("span", { class: "grow" }),
        h("label", {}, t("history"), " ", this.historySel),
        h("label", {}, t("saved"), " ", this.savedSel),
        h("button", { id: "save-msg", onclick: () => this.saveMessage() }, t("saveMsg"))),
      h("div", { class: "inputwrap" }, this.input, this.mark),
      h("div", { class: "toolbar" },
        this.status,
        this.preview,
        h("span", { class: "grow" }),
        h("label", {}, t("every"), " ", this.every, " ", t("ms"), " × ", this.times, " ", t("times")),
        h("button", { id: "auto-btn", onclick: () => this.send(true) }, t("autoSend")),
        h("button", { id: "auto-stop", onclick: () => this.stopAuto() }, t("stopAuto")),
        this.file,
        h("button", { onclick: () => this.file.click() }, t("sendFile")),
        this.sendBtn),
      h("div", { class: "toolbar quickbar" },
        h("strong", {}, t("quick")), this.quick, h("span", { class: "grow" }),
        this.importer,
        h("button", { id: "profile-import-btn", onclick: () => this.importer.click() }, t("importProfile")),
        h("button", { id: "profile-export", onclick: () => this.exportProfile() }, t("exportProfile"))));
  }

  /** Builds the box again (after a language switch), keeping what was typed. */
  rebuild() {
    const keep = this.current();
    const every = this.every.value;
    const times = this.times.value;
    const old = this.el;
    this.el = this.build();
    this.input.value = keep.data;
    this.formatSel.value = keep.format;
    this.encoding.value = keep.encoding;
    this.eol.value = keep.eol;
    this.escapes.checked = keep.escapes;
    this.every.value = every;
    this.times.value = times;
    old.replaceWith(this.el);
    this.check();
  }

  fillLists() {
    this.historySel.replaceChildren(h("option", { value: "" }, `— ${t("history")} —`),
      ...history.get().map((m, i) => h("option", { value: `h${i}` }, label(m))));
    this.savedSel.replaceChildren(h("option", { value: "" }, `— ${t("saved")} —`),
      ...saved.get().map((m, i) => h("option", { value: `s${i}` }, `${m.name}: ${label(m)}`)));
    this.quick.replaceChildren(...saved.get().map((m) => h("button", {
      class: "quick-btn", "data-name": m.name, title: label(m), onclick: () => this.sendSaved(m),
    }, m.name)));
  }

  /** Sends saved message `m` to the current target, as it was saved. */
  async sendSaved(m) {
    const to = this.target();
    if (!to) { this.notify(t("noSessions"), true); return; }
    const { name: _, ...msg } = m;
    const r = await this.conn.request({ cmd: "send", session: to.session, conn: to.conn, ...msg });
    if (!r.ok) this.notify(r.error, true);
  }

  /** Reads a `--profile` TOML: its packets become saved messages
   * (templates), its respond rules go to the new-session form. */
  async importProfile() {
    const f = this.importer.files[0];
    this.importer.value = "";
    if (!f) return;
    const r = await this.conn.request({ cmd: "profile_import", toml: await f.text() });
    if (!r.ok) { this.notify(r.error, true); return; }
    const names = new Set(r.packets.map((p) => p.name));
    const added = r.packets.map((p) => ({ name: p.name, data: p.template, format: "template",
      encoding: this.encoding.value, eol: "none", escapes: false }));
    saved.set([...saved.get().filter((m) => !names.has(m.name)), ...added]);
    if (r.respond.length) {
      respondRules.set(r.respond);
      const box = document.getElementById("new-respond");
      if (box) box.value = r.respond.join("\n");
    }
    this.fillLists();
    this.notify(`${f.name}: ${added.length} ${t("imported")}`);
  }

  /** Offers the saved messages as a `--profile` TOML: `sockmate connect
   * … --profile F --packet NAME` sends one. (Respond rules are a server's:
   * a client's profile cannot hold them, so they are not exported.) */
  async exportProfile() {
    const r = await this.conn.request({ cmd: "profile_export", packets: saved.get().map(asPacket), respond: [] });
    if (!r.ok) { this.notify(r.error, true); return; }
    download("sockmate-profile.toml", r.toml, "application/toml");
  }

  recall(select) {
    const v = select.value;
    select.value = "";
    if (!v) return;
    const list = v[0] === "h" ? history.get() : saved.get();
    const m = list[Number(v.slice(1))];
    if (!m) return;
    this.input.value = m.data;
    this.format = m.format;
    this.formatSel.value = m.format;
    if (m.encoding) this.encoding.value = m.encoding;
    if (m.eol) this.eol.value = m.eol;
    this.escapes.checked = !!m.escapes;
    this.check();
  }

  current() {
    return { data: this.input.value, format: this.format, encoding: this.encoding.value,
      eol: this.eol.value, escapes: this.escapes.checked };
  }

  saveMessage() {
    const name = prompt(t("msgName"));
    if (!name) return;
    saved.set([...saved.get().filter((m) => m.name !== name), { name, ...this.current() }]);
    this.fillLists();
  }

  /** Shows the bytes a template (or text) stands for, rendered by sockmate
   * as send number 1 (checksums included); a bad template names its error. */
  async showPreview() {
    const n = ++this.checking;
    const r = await this.conn.request({ cmd: "preview", ...this.current() });
    if (n !== this.checking) return;
    this.valid = r.ok;
    this.sendBtn.disabled = !r.ok;
    this.preview.className = r.ok ? "preview mono ok" : "preview mono bad";
    this.preview.textContent = r.ok ? `→ ${r.len} B: ${spacedHex(r.hex)}${r.cut ? " …" : ""}` : r.error;
    this.preview.title = this.preview.textContent;
  }

  /** Checks hex with sockmate's parser (the CLI's grammar) and marks the bad token. */
  async check() {
    this.mark.replaceChildren();
    this.preview.textContent = "";
    if (this.format === "template") { this.status.textContent = ""; await this.showPreview(); return; }
    if (this.format !== "hex") { this.valid = true; this.status.textContent = ""; this.sendBtn.disabled = false; return; }
    const text = this.input.value;
    const n = ++this.checking;
    const r = await this.conn.request({ cmd: "hex", text });
    if (n !== this.checking) return;
    this.valid = r.ok;
    this.sendBtn.disabled = !r.ok;
    this.status.className = r.ok ? "hexstatus ok" : "hexstatus bad";
    this.status.textContent = r.ok ? `✓ ${r.len} ${t("hexOk")}` : r.error;
    if (!r.ok && r.hex) {
      const chars = [...text];
      const at = r.hex.position;
      const len = [...r.hex.token].length;
      this.mark.append(chars.slice(0, at).join(""), h("mark", { id: "hex-bad" }, chars.slice(at, at + len).join("")),
        chars.slice(at + len).join(""));
    }
  }

  async send(auto) {
    const to = this.target();
    if (!to) { this.notify(t("noSessions"), true); return; }
    const msg = this.current();
    const cmd = { cmd: "send", session: to.session, conn: to.conn, ...msg };
    if (auto) { cmd.every_ms = Number(this.every.value) || 1000; cmd.times = Number(this.times.value) || 1; }
    const r = await this.conn.request(cmd);
    if (!r.ok) { this.notify(r.error, true); return; }
    this.remember(msg);
  }

  async stopAuto() {
    const to = this.target();
    if (to) await this.conn.request({ cmd: "stop_auto", session: to.session });
  }

  remember(msg) {
    if (!msg.data) return;
    const list = history.get().filter((m) => !(m.data === msg.data && m.format === msg.format));
    list.unshift(msg);
    history.set(list.slice(0, 50));
    this.fillLists();
  }

  async sendFile() {
    const f = this.file.files[0];
    this.file.value = "";
    const to = this.target();
    if (!f || !to) return;
    const data = base64(await f.arrayBuffer());
    const r = await this.conn.request({ cmd: "send", session: to.session, conn: to.conn, format: "base64", data });
    this.notify(r.ok ? `${f.name}: ${r.len} B` : r.error, !r.ok);
  }
}

const respondRules = stored("sockmate.respond", []);

/** The form's remembered respond rules. */
export function savedRespond() { return respondRules.get(); }

/** A saved message as a profile packet: its `--send-template` template
 * (text with its braces doubled, hex as {hex:…}, the line ending as an
 * escape). */
export function asPacket(m) {
  const eol = m.eol === "lf" ? "\\n" : m.eol === "crlf" ? "\\r\\n" : "";
  let template;
  if (m.format === "template") template = m.data;
  else if (m.format === "hex") template = `{hex:${m.data.trim()}}`;
  else {
    const text = m.escapes ? m.data : m.data.replace(/\\/g, "\\\\");
    template = text.replace(/\{/g, "{{").replace(/\}/g, "}}");
  }
  return { name: m.name, template: template + (m.format === "hex" ? "" : eol) };
}

function label(m) {
  const d = m.data.length > 40 ? m.data.slice(0, 40) + "…" : m.data;
  return `[${m.format}] ${d}`;
}
