// 中文 / English: the browser's language by default, a switch in the page.

import { stored } from "./util.js";

const en = {
  title: "Network debugging assistant",
  online: "connected", offline: "reconnecting…", connecting: "connecting…",
  ended: "session ended (sockmate has exited)", dropped: "earlier events not kept",
  newSession: "New session", type: "Type", address: "Address", localPort: "Local port",
  broadcast: "Broadcast", reconnect: "Reconnect", open: "Open",
  tcpClient: "TCP client", tcpServer: "TCP server", udp: "UDP", unixClient: "Unix client",
  unixServer: "Unix server", anyConnect: "Endpoint (connect)", anyListen: "Endpoint (listen)", portScan: "Port scan (HOST PORTS)", receiveFiles: "Receive files (ENDPOINT [FOLDER])",
  sessions: "Sessions", noSessions: "No session yet: open one on the left.",
  running: "running", stopped: "stopped", stop: "Stop", restart: "Restart", remove: "Remove",
  clients: "Clients", noClients: "No client connected.", peer: "Peer", age: "Age", traffic: "In / Out",
  send: "Send", disconnect: "Disconnect", sendAll: "Send to all", to: "To", all: "all",
  receive: "Receive", view: "View", text: "Text", hex: "Hex", both: "Both", filter: "Connection",
  pause: "Pause", resume: "Resume", clear: "Clear", autoscroll: "Auto-scroll",
  scrolledUp: "Scrolled up: new lines below", saveText: "Save .txt", saveJson: "Save .jsonl",
  encoding: "Encoding", eol: "Line end", none: "none", escapes: "Escapes (\\n \\x01)",
  sendFile: "Send file…", every: "Every", ms: "ms", times: "times", autoSend: "Auto-send",
  stopAuto: "Stop auto-send", history: "History", saved: "Saved", saveMsg: "Save as…",
  msgName: "Name for this message", reset: "Reset", duration: "Duration",
  bytesIn: "RX", bytesOut: "TX", msgs: "msgs", record: "Record to file", stopRecord: "Stop recording",
  recordPath: "File name (in sockmate's record folder)", recording: "recording to",
  hexOk: "bytes", paused: "paused", skipped: "events skipped",
  pairs: "Relayed pairs", client: "Client", localAddr: "local address",
  template: "Template", quick: "Quick send", importProfile: "Import profile…", exportProfile: "Export profile",
  imported: "saved messages imported", respondRules: "Respond rules (MATCH=>REPLY, one per line)",
  bytesPerS: "Bytes", msgsPerS: "Messages", now: "now", lastMinute: "Last minute (B/s)",
  lang: "中文",
};

const zh = {
  title: "网络调试助手",
  online: "已连接", offline: "正在重连…", connecting: "正在连接…",
  ended: "会话已结束（sockmate 已退出）", dropped: "条更早的事件未保留",
  newSession: "新建会话", type: "类型", address: "地址", localPort: "本地端口",
  broadcast: "广播", reconnect: "自动重连", open: "打开",
  tcpClient: "TCP 客户端", tcpServer: "TCP 服务器", udp: "UDP", unixClient: "Unix 客户端",
  unixServer: "Unix 服务器", anyConnect: "端点（连接）", anyListen: "端点（监听）", portScan: "端口扫描（主机 端口）", receiveFiles: "接收文件（端点 [文件夹]）",
  sessions: "会话", noSessions: "还没有会话：在左侧打开一个。",
  running: "运行中", stopped: "已停止", stop: "停止", restart: "重新开始", remove: "删除",
  clients: "客户端", noClients: "没有客户端连接。", peer: "对端", age: "时长", traffic: "收 / 发",
  send: "发送", disconnect: "断开", sendAll: "发送给全部", to: "发往", all: "全部",
  receive: "接收", view: "显示", text: "文本", hex: "十六进制", both: "两者", filter: "连接",
  pause: "暂停", resume: "继续", clear: "清空", autoscroll: "自动滚动",
  scrolledUp: "已向上滚动：下方有新数据", saveText: "保存 .txt", saveJson: "保存 .jsonl",
  encoding: "编码", eol: "行尾", none: "无", escapes: "转义 (\\n \\x01)",
  sendFile: "发送文件…", every: "每", ms: "毫秒", times: "次", autoSend: "定时发送",
  stopAuto: "停止定时发送", history: "历史", saved: "已保存", saveMsg: "保存为…",
  msgName: "这条消息的名字", reset: "清零", duration: "时长",
  bytesIn: "收", bytesOut: "发", msgs: "条", record: "接收到文件", stopRecord: "停止记录",
  recordPath: "文件名（在 sockmate 的记录文件夹中）", recording: "正在记录到",
  hexOk: "字节", paused: "已暂停", skipped: "条事件被跳过",
  pairs: "转发连接", client: "客户端", localAddr: "本地地址",
  template: "模板", quick: "快捷发送", importProfile: "导入配置…", exportProfile: "导出配置",
  imported: "条消息已导入", respondRules: "应答规则（匹配=>回复，每行一条）",
  bytesPerS: "字节", msgsPerS: "消息", now: "现在", lastMinute: "最近一分钟（B/s）",
  lang: "English",
};

const choice = stored("sockmate.lang", null);
let current = choice.get() || ((navigator.language || "en").toLowerCase().startsWith("zh") ? "zh" : "en");

/** The text for `key` in the current language. */
export function t(key) {
  const table = current === "zh" ? zh : en;
  return table[key] ?? en[key] ?? key;
}

// The engine's common errors in Chinese: [pattern, template with $1…].
// Anything else keeps its English detail behind a Chinese "错误：".
const zhErrors = [
  [/^no live connection on this session/, "此会话没有活动连接（先启动它，或等待客户端连接）"],
  [/^no session (\d+)/, "没有会话 $1（已被删除）"],
  [/^session (\d+) is not running/, "会话 $1 未运行（请重新开始）"],
  [/^no connection #(\d+)/, "没有连接 #$1（已关闭或不存在）"],
  [/^connection #(\d+) is closing/, "连接 #$1 正在关闭，不再发送数据"],
  [/^record file "(.*)" refused: .*/, "记录文件“$1”被拒绝：只能填写文件名（不含文件夹或 ..），文件建在 sockmate 的记录文件夹中"],
  [/^record file "(.*)" already exists in (.*) and sockmate did not create it.*/, "记录文件“$1”已在 $2 中存在且不是 sockmate 创建的（不会追加到其他文件或跟随链接）：请换一个名字"],
  [/^a relay carries .*/, "转发会话没有发送框（可以断开某个连接）"],
  [/^bad base64: (.*)/, "base64 格式错误：$1"],
  [/^invalid template "(.*)": (.*)/, "模板“$1”无效：$2"],
  [/^bad hex (.*)/, "十六进制格式错误 $1"],
  [/^connection to sockmate lost/, "与 sockmate 的连接已断开"],
  [/^not connected to sockmate/, "未连接到 sockmate"],
  [/connection refused/i, "连接被拒绝（对方没有在该端口监听）：$&"],
  [/timed out/i, "超时：$&"],
  [/address (already )?in use/i, "地址已被占用：$&"],
  [/permission denied/i, "权限不足：$&"],
];

/** An error from sockmate in the current language. */
export function tr(message) {
  const m = String(message ?? "");
  if (current !== "zh") return m;
  for (const [re, zh] of zhErrors) {
    const hit = m.match(re);
    if (hit) return zh.replace(/\$(\d|&)/g, (_, n) => (n === "&" ? m : hit[Number(n)] ?? ""));
  }
  return `错误：${m}`;
}

/** "zh" or "en". */
export function lang() { return current; }

/** Switches language (remembered). */
export function toggle() {
  current = current === "zh" ? "en" : "zh";
  choice.set(current);
  document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
}

document.documentElement.lang = current === "zh" ? "zh-CN" : "en";
