// The one WebSocket to sockmate: commands with replies (promises), and
// every other message to the listeners. It reconnects by itself.

const token = sessionStorage.getItem("sockmate.token") || "";

export class Conn {
  constructor() {
    this.next = 1;
    this.pending = new Map();
    this.listeners = [];
    this.state = "connecting";
    this.onstate = () => {};
    this.delay = 250;
    this.open();
  }

  open() {
    const url = `ws://${location.host}/ws?token=${encodeURIComponent(token)}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => { this.delay = 250; this.setState("online"); };
    ws.onmessage = (m) => {
      let msg;
      try { msg = JSON.parse(m.data); } catch (_) { return; }
      if (msg.t === "reply") {
        const p = this.pending.get(msg.id);
        if (p) { this.pending.delete(msg.id); p(msg); }
        return;
      }
      for (const f of this.listeners) f(msg);
    };
    ws.onclose = () => {
      this.setState("offline");
      for (const p of this.pending.values()) p({ ok: false, error: "connection to sockmate lost" });
      this.pending.clear();
      setTimeout(() => this.open(), this.delay);
      this.delay = Math.min(this.delay * 2, 5000);
    };
  }

  setState(s) { this.state = s; this.onstate(s); }

  /** Sends a command; resolves with its reply ({ok, error, …}). */
  request(cmd) {
    return new Promise((resolve) => {
      if (!this.ws || this.ws.readyState !== WebSocket.OPEN) {
        resolve({ ok: false, error: "not connected to sockmate" });
        return;
      }
      const id = this.next++;
      this.pending.set(id, resolve);
      this.ws.send(JSON.stringify({ ...cmd, id }));
    });
  }

  on(f) { this.listeners.push(f); }
}
