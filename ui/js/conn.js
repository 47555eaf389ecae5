// The one WebSocket to sockmate: commands with replies (promises), and
// every other message to the listeners. It reconnects by itself; when
// sockmate is gone (its port refuses a few times in a row after it was
// reached) the state is "ended" and it stops trying.

const token = sessionStorage.getItem("sockmate.token") || "";

export class Conn {
  constructor() {
    this.next = 1;
    this.pending = new Map();
    this.listeners = [];
    this.state = "connecting";
    this.onstate = () => {};
    this.delay = 250;
    this.failures = 0;
    this.reached = false;
    this.open();
  }

  open() {
    const url = `ws://${location.host}/ws?token=${encodeURIComponent(token)}`;
    const ws = new WebSocket(url);
    this.ws = ws;
    ws.onopen = () => { this.delay = 250; this.failures = 0; this.reached = true; this.setState("online"); };
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
    ws.onclose = (ev) => {
      const opened = ws === this.ws && this.state === "online";
      if (!opened) this.failures++;
      for (const p of this.pending.values()) p({ ok: false, error: "connection to sockmate lost" });
      this.pending.clear();
      if (this.reached && this.failures >= Conn.GONE_AFTER) { this.setState("ended"); return; }
      this.setState("offline");
      setTimeout(() => this.open(), this.delay);
      this.delay = Math.min(this.delay * 2, 5000);
    };
  }

  /** Failed reconnects in a row after which sockmate counts as gone. */
  static get GONE_AFTER() { return 3; }

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
