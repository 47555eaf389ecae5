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

/** A connection's peer as shown beside its "#id": a relay labels its
 * pairs "#3 127.0.0.1:5000", so the repeated "#3 " is dropped. */
export function peerName(conn, peer) {
  const p = peer ?? "";
  const tag = `#${conn} `;
  return p.startsWith(tag) ? p.slice(tag.length) : p;
}

/** "d6d0" -> "D6 D0". */
export function spacedHex(hex) {
  return (hex || "").toUpperCase().replace(/(..)(?!$)/g, "$1 ");
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
