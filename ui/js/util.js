// Small helpers: building elements, formatting bytes, hex and times,
// base64 of a file, downloads, and localStorage with a fallback.

/** Creates an element: h("div", {class: "x", onclick: f}, child, "text"). */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else if (k === "class") el.className = v;
    else if (k === "text") el.textContent = v;
    else if (v === true) el.setAttribute(k, "");
    else el.setAttribute(k, v);
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** A connection's peer as shown beside its "#id": events name it by
 * endpoint URL ("tcp://127.0.0.1:5000"), whose scheme the session already
 * says, and a relay's list labels its pairs "#3 127.0.0.1:5000", so the
 * repeated "#3 " is dropped too. */
export function peerName(conn, peer) {
  const p = (peer ?? "").replace(/^[a-z][a-z0-9+-]*:\/\//, "");
  const tag = `#${conn} `;
  return p.startsWith(tag) ? p.slice(tag.length) : p;
}

/** "d6d0" -> "D6 D0". */
export function spacedHex(hex) {
  return (hex || "").toUpperCase().replace(/(..)(?!$)/g, "$1 ");
}

/** Bytes per row of a long message's hex, as `--hex` shows it. */
export const HEX_ROW = 16;

/** A message's hex for the page: up to 16 bytes on one line ("01 03 00");
 * longer, as `--hex` does: an offset and 16 bytes per row (two groups of
 * 8) and the printable ASCII beside them. */
export function hexRows(hex) {
  const h = (hex || "").toUpperCase();
  if (h.length <= HEX_ROW * 2) return spacedHex(h);
  const rows = [];
  for (let at = 0; at < h.length; at += HEX_ROW * 2) {
    const part = h.slice(at, at + HEX_ROW * 2);
    const pairs = part.match(/../g) || [];
    const cells = [];
    for (let i = 0; i < HEX_ROW; i++) cells.push((pairs[i] || "  ") + (i === 7 ? "  " : " "));
    const gutter = pairs.map((p) => { const b = parseInt(p, 16); return b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : "."; }).join("");
    rows.push(`${(at / 2).toString(16).padStart(8, "0")}  ${cells.join("")} |${gutter}|`);
  }
  return rows.join("\n");
}

/** Text with control characters escaped as the terminal view does
 * (`\x01`, and `\r` `\n` too when `lines` is false), so a saved log entry
 * is one line of text. Tab stays. */
export function escapeControls(text, lines) {
  return (text || "").replace(/[\x00-\x08\x0a-\x1f\x7f]/g, (c) => {
    if (lines && (c === "\n" || c === "\r")) return c;
    if (c === "\n") return "\\n";
    if (c === "\r") return "\\r";
    return `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}

/** True when a decoded message is mostly not text (control characters or
 * bytes the encoding could not decode): the Text view shows its hex. */
export function mostlyBinary(text) {
  const t = text || "";
  if (!t.length) return false;
  const odd = (t.match(/[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd]/g) || []).length;
  return odd * 2 > [...t].length;
}

/** 1536 -> "1.5 KiB". */
export function bytes(n) {
  if (n < 1024) return `${n} B`;
  const units = ["KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let i = -1;
  do { v /= 1024; i++; } while (v >= 1024 && i < units.length - 1);
  return `${v.toFixed(v < 10 ? 1 : 0)} ${units[i]}`;
}

/** Milliseconds -> "1:02:03" or "2:03". */
export function duration(ms) {
  const s = Math.floor(ms / 1000);
  const hh = Math.floor(s / 3600);
  const mm = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, "0");
  return hh ? `${hh}:${String(mm).padStart(2, "0")}:${ss}` : `${mm}:${ss}`;
}

/** The "HH:MM:SS.mmm" of an event's RFC 3339 time. */
export function clock(time) {
  return (time || "").slice(11, 23);
}

/** An ArrayBuffer as base64. */
export function base64(buffer) {
  const u8 = new Uint8Array(buffer);
  let s = "";
  for (let i = 0; i < u8.length; i += 0x8000) {
    s += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
  }
  return btoa(s);
}

/** Offers `text` as a file download called `name`. */
export function download(name, text, type) {
  const url = URL.createObjectURL(new Blob([text], { type }));
  const a = h("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

/** A JSON value kept in localStorage (or only in memory when it is off). */
export function stored(key, fallback) {
  return {
    get() {
      try {
        const v = localStorage.getItem(key);
        return v === null ? fallback : JSON.parse(v);
      } catch (_) {
        return fallback;
      }
    },
    set(v) {
      try { localStorage.setItem(key, JSON.stringify(v)); } catch (_) { /* private mode */ }
    },
  };
}
