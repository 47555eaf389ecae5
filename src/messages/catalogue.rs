//! Every line a learner reads on stderr, in English and Chinese.
//!
//! Each entry is `(English pattern, Chinese pattern)` with the same
//! `{parts}` (see `super::pattern`); `{{` and `}}` are literal braces.
//! The first entry that matches a line wins, so specific lines come before
//! general ones, and the catch-alls (`{where}: {cause}`) come last. The
//! tests check that every entry parses, has both languages and the same
//! parts in each.

/// `(English, Chinese)` patterns, specific first.
pub const CATALOGUE: &[(&str, &str)] = &[
    // ---- Status lines (listen, connect, relay) ----
    ("listening on {endpoint} {note}", "正在监听 {endpoint} {note}"),
    ("listening on {endpoint}", "正在监听 {endpoint}"),
    (
        "(loopback only: listen on {any4} or {any6} to accept other hosts)",
        "（只在本机回环地址上：要接受其他主机的连接，请监听 {any4} 或 {any6}）",
    ),
    ("connected: {peer} -> {target}", "已连接：{peer} -> {target}"),
    ("connected: {peer} ({tls})", "已连接：{peer}（{tls}）"),
    ("connected: {peer}", "已连接：{peer}"),
    (
        "closed: {peer} ({bytes_in} bytes in, {bytes_out} bytes out, {reason})",
        "已关闭：{peer}（收到 {bytes_in} 字节，发出 {bytes_out} 字节，{reason}）",
    ),
    (
        "closed: {peer} ({bytes_in} bytes in, {bytes_out} bytes out)",
        "已关闭：{peer}（收到 {bytes_in} 字节，发出 {bytes_out} 字节）",
    ),
    ("quit word", "收到退出词"),
    ("peer closed", "对方已关闭"),
    ("wait elapsed", "等待时间已到"),
    ("idle timeout", "空闲超时"),
    ("shutdown", "程序结束"),
    ("closed by the user", "已被用户关闭"),
    ("client left; command killed", "客户端已离开；命令已结束"),
    ("forgotten: too many datagram peers", "已遗忘：数据报对端太多"),
    ("error: {message}", "错误：{message}"),
    (
        "reconnecting to {endpoint} (attempt {n}) in {delay}",
        "{delay}后重新连接 {endpoint}（第 {n} 次）",
    ),
    ("reconnected to {endpoint}", "已重新连接 {endpoint}"),
    (
        "no data for {wait} after stdin ended; --wait longer to keep listening",
        "标准输入结束后 {wait} 内没有收到数据；要继续等待，请把 --wait 设长一些",
    ),
    (
        "no data for {wait} after {what}; --wait longer to keep listening",
        "{what}之后 {wait} 内没有收到数据；要继续等待，请把 --wait 设长一些",
    ),
    ("the sends ended", "发送已结束"),
    (
        "refused: {peer} (--max-conns {max} reached)",
        "已拒绝：{peer}（已达到 --max-conns {max}）",
    ),
    (
        "refused: {peer} (not allowed by --allow/--deny)",
        "已拒绝：{peer}（--allow/--deny 不允许）",
    ),
    (
        "a client fell behind and skipped {n} input lines",
        "有个客户端跟不上，跳过了 {n} 行输入",
    ),
    (
        "no peer has sent anything yet: dropped {n} bytes of input",
        "还没有对端发来过数据：丢弃了 {n} 字节输入",
    ),
    (
        "scanned {n} {proto} ports on {host} in {secs}s: {counts}",
        "扫描了 {host} 的 {n} 个 {proto} 端口，用时 {secs} 秒：{counts}",
    ),
    (
        "scan interrupted after {done} of {all} ports",
        "扫描在 {all} 个端口中的第 {done} 个处被中断",
    ),
    // ---- Connecting ----
    (
        "connection refused by {endpoint} ({hint})",
        "{endpoint} 拒绝了连接（{hint}）",
    ),
    ("connection refused by {endpoint}", "{endpoint} 拒绝了连接"),
    (
        "is anything listening on port {port}? start one with: sockmate listen {port2}",
        "端口 {port} 上有程序在监听吗？可以这样启动一个：sockmate listen {port2}",
    ),
    (
        "is anything listening on {endpoint}? start one with: sockmate listen {listen}",
        "{endpoint} 上有程序在监听吗？可以这样启动一个：sockmate listen {listen}",
    ),
    ("is anything listening there?", "那里有程序在监听吗？"),
    (
        "connection refused (nothing listening)",
        "连接被拒绝（没有程序在监听）",
    ),
    ("connection refused", "连接被拒绝"),
    (
        "connection reset by peer (the other side closed abruptly: it crashed or was killed, or closed with data still unread)",
        "连接被对方重置（对方突然关闭：它崩溃了、被杀掉了，或在还有数据没读时关闭了）",
    ),
    (
        "connection closed by peer while sending",
        "发送时连接被对方关闭",
    ),
    ("timed out", "超时"),
    (
        "cannot resolve host \"{host}\": {cause}",
        "无法解析主机名 \"{host}\"：{cause}",
    ),
    (
        "failed to lookup address information: {cause}",
        "查询地址信息失败：{cause}",
    ),
    ("Name or service not known", "名称或服务未知"),
    (
        "Temporary failure in name resolution",
        "域名解析暂时失败",
    ),
    // ---- Listening ----
    ("address in use: {endpoint} ({why})", "地址已被占用：{endpoint}（{why}）"),
    (
        "held by {name} (pid {pid}); stop it or pick another port (port 0 picks a free one and the startup line names it); --reuseport cannot share it: that works only when {name2} set SO_REUSEPORT too",
        "被 {name}（pid {pid}）占用；请停掉它或换一个端口（端口 0 会选一个空闲端口，启动行会写出它）；--reuseport 不能共享它：只有 {name2} 也设置了 SO_REUSEPORT 才行",
    ),
    (
        "{why}; stop it or pick another port; to share the port on purpose, start both with --reuseport (it works only when every holder set it)",
        "{why}；请停掉它或换一个端口；如果有意共享端口，两边都用 --reuseport 启动（只有每个占用者都设置了它才行）",
    ),
    (
        "{why}; stop it or pick another port (port 0 picks a free one); --reuseport shares a port only when every holder set it",
        "{why}；请停掉它或换一个端口（端口 0 会选一个空闲端口）；只有每个占用者都设置了 --reuseport 才能共享端口",
    ),
    (
        "another socket is bound there (see who: {cmd})",
        "那里已经绑定了另一个套接字（查看是谁：{cmd}）",
    ),
    (
        "another socket is bound there; pick another address or stop it",
        "那里已经绑定了另一个套接字；请换一个地址或停掉它",
    ),
    (
        "ports below 1024 need root or CAP_NET_BIND_SERVICE (use a port like {port}, or allow it: {cmd})",
        "1024 以下的端口需要 root 或 CAP_NET_BIND_SERVICE 权限（改用 {port} 这样的端口，或这样授权：{cmd}）",
    ),
    // ---- ping ----
    (
        "cannot open an ICMP socket: unprivileged ICMP datagram sockets (socket({family}, SOCK_DGRAM, {proto})) are off (net.ipv4.ping_group_range is \"{range}\", which leaves out your group {group}), and raw ICMP sockets (SOCK_RAW) need root or CAP_NET_RAW; allow one: sudo sysctl -w net.ipv4.ping_group_range=\"0 2147483647\", or sudo setcap cap_net_raw+ep \"$(command -v sockmate)\", or run as root",
        "无法打开 ICMP 套接字：非特权 ICMP 数据报套接字（socket({family}, SOCK_DGRAM, {proto})）没有开放（net.ipv4.ping_group_range 是 \"{range}\"，不包括你的组 {group}），而原始 ICMP 套接字（SOCK_RAW）需要 root 或 CAP_NET_RAW；任选一种放开：sudo sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"，或 sudo setcap cap_net_raw+ep \"$(command -v sockmate)\"，或以 root 身份运行",
    ),
    ("no reply from {host}", "{host} 没有回复"),
    ("held by {name} (pid {pid})", "被 {name}（pid {pid}）占用"),
    ("permission denied", "权限不够"),
    ("address in use", "地址已被占用"),
    ("cannot assign requested address", "无法使用请求的地址"),
    // ---- Endpoints ----
    (
        "empty endpoint (write one like {example})",
        "端点为空（请写成 {example} 这样）",
    ),
    (
        "missing port in {input} (write a number 0-65535 after the colon)",
        "{input} 缺少端口（请在冒号后写一个 0-65535 的数字）",
    ),
    ("missing port in {input} (write {fix})", "{input} 缺少端口（请写成 {fix}）"),
    (
        "missing host in {input}: {rest} looks like a port (write {fix}, or {any} for every interface)",
        "{input} 缺少主机：{rest} 看起来是端口（请写成 {fix}，或用 {any} 监听所有网卡）",
    ),
    ("missing host in {input} (write {fix})", "{input} 缺少主机（请写成 {fix}）"),
    (
        "invalid port \"{port}\" in {input} ({why})",
        "{input} 中的端口 \"{port}\" 无效（{why}）",
    ),
    (
        "invalid host \"{host}\" (give an IP like 127.0.0.1 or ::1, or a name like localhost; no port here: ports are the second argument)",
        "主机 \"{host}\" 无效（请写 127.0.0.1 或 ::1 这样的 IP，或 localhost 这样的名字；这里不写端口：端口是第二个参数）",
    ),
    (
        "missing path in {input} (write {fix} or {abstract})",
        "{input} 缺少路径（请写成 {fix} 或 {abstract}）",
    ),
    (
        "{what} is not available on Windows; {instead}",
        "{what} 在 Windows 上不可用；{instead}",
    ),
    // ---- Input: hex, templates, encodings ----
    ("in --send-hex \"{text}\": {problem}", "--send-hex \"{text}\" 有误：{problem}"),
    ("in --send \"{text}\": {problem}", "--send \"{text}\" 有误：{problem}"),
    (
        "in --send-template \"{text}\": {problem}",
        "--send-template \"{text}\" 有误：{problem}",
    ),
    (
        "bad hex \"{text}\" at position {n}: {problem} (write bytes like {example})",
        "十六进制 \"{text}\" 在位置 {n} 有误：{problem}（字节请写成 {example} 这样）",
    ),
    ("not a hex digit", "不是十六进制数字"),
    (
        "odd number of hex digits (two per byte, e.g. 0a)",
        "十六进制数字的个数是奇数（每个字节两位，例如 0a）",
    ),
    ("no hex digits", "没有十六进制数字"),
    (
        "unknown encoding \"{name}\" (did you mean {nearest}? try {list}, or a Python codec name like cp936)",
        "未知编码 \"{name}\"（你是想写 {nearest} 吗？可以试试 {list}，或 Python 的编码名，如 cp936）",
    ),
    (
        "unknown encoding \"{name}\" (try {list}, or a Python codec name like cp936)",
        "未知编码 \"{name}\"（可以试试 {list}，或 Python 的编码名，如 cp936）",
    ),
    ("invalid --reply \"{text}\": {problem}", "--reply \"{text}\" 无效：{problem}"),
    ("invalid --banner \"{text}\": {problem}", "--banner \"{text}\" 无效：{problem}"),
    (
        "unknown placeholder {{{name}}} at position {n} (use {list}, or {{{{ and }}}} for literal braces)",
        "位置 {n} 的占位符 {{{name}}} 不认识（可用 {list}；要写花括号本身请用 {{{{ 和 }}}}）",
    ),
    (
        "unclosed {{ at position {n} (close it, or write {{{{ for a literal brace)",
        "位置 {n} 的 {{ 没有闭合（请闭合它，或写 {{{{ 表示花括号本身）",
    ),
    (
        "lone }} at position {n} (write }}}} for a literal brace)",
        "位置 {n} 有单独的 }}（写 }}}} 表示花括号本身）",
    ),
    (
        "message longer than --max-frame {max} bytes",
        "消息超过了 --max-frame {max} 字节",
    ),
    (
        "stream ended inside a message ({have} of {want} bytes)",
        "数据流在一条消息中间结束了（{want} 字节只收到 {have}）",
    ),
    // ---- The command line ----
    ("unexpected argument '{arg}' found", "无法识别的参数 '{arg}'"),
    ("unrecognized subcommand '{command}'", "无法识别的子命令 '{command}'"),
    (
        "the following required arguments were not provided: {args}",
        "缺少必需的参数：{args}",
    ),
    (
        "invalid value '{value}' for '{arg}': {problem}",
        "'{arg}' 的值 '{value}' 无效：{problem}",
    ),
    (
        "did you mean {arg}? ({help} lists every flag)",
        "你是想写 {arg} 吗？（{help} 列出所有选项）",
    ),
    (
        "did you mean `sockmate {command}`? (sockmate --help lists the commands)",
        "你是想写 `sockmate {command}` 吗？（sockmate --help 列出所有命令）",
    ),
    ("{help} lists every flag", "{help} 列出所有选项"),
    (
        "{help} shows what it needs, with examples",
        "{help} 会说明需要什么，并附有示例",
    ),
    ("{help} describes each value", "{help} 说明了每个取值"),
    (
        "{help} shows the usage, with examples",
        "{help} 会给出用法和示例",
    ),
    (
        "{flag} takes one of: {values}",
        "{flag} 只能取这些值之一：{values}",
    ),
    (
        "give the endpoint, e.g. sockmate connect 127.0.0.1:8000",
        "请给出端点，例如 sockmate connect 127.0.0.1:8000",
    ),
    (
        "give the endpoint, e.g. sockmate listen 8000",
        "请给出端点，例如 sockmate listen 8000",
    ),
    (
        "give both endpoints, e.g. sockmate relay 8080 127.0.0.1:80",
        "请给出两个端点，例如 sockmate relay 8080 127.0.0.1:80",
    ),
    (
        "the command comes first and host and port are one endpoint: write {command} (or {server} for a server)",
        "命令写在最前面，主机和端口合成一个端点：写成 {command}（服务器则写 {server}）",
    ),
    (
        "the command comes first: sockmate listen {port} for a server, sockmate connect 127.0.0.1:{port2} for a client",
        "命令写在最前面：服务器写 sockmate listen {port}，客户端写 sockmate connect 127.0.0.1:{port2}",
    ),
    (
        "the command comes first: write {command}",
        "命令写在最前面：写成 {command}",
    ),
    (
        "the command comes first: sockmate connect HOST:PORT, sockmate listen PORT (sockmate --help lists them all)",
        "命令写在最前面：sockmate connect 主机:端口，sockmate listen 端口（sockmate --help 列出全部命令）",
    ),
    (
        "host and port are one endpoint: write {command}",
        "主机和端口合成一个端点：写成 {command}",
    ),
    (
        "the port goes in the endpoint: write {command}; for a source port use --bind 0.0.0.0:PORT",
        "端口写在端点里：写成 {command}；源端口请用 --bind 0.0.0.0:端口",
    ),
    (
        "the port goes in the endpoint: write {command} (or {any})",
        "端口写在端点里：写成 {command}（或 {any}）",
    ),
    (
        "nc -l is a command here: write sockmate listen {port}",
        "nc 的 -l 在这里是一个命令：写成 sockmate listen {port}",
    ),
    (
        "nc -z (port probe): write sockmate scan {host} {port}",
        "nc -z（端口探测）：写成 sockmate scan {host} {port}",
    ),
    (
        "nc's -u is written in the endpoint: write {endpoint} ({command})",
        "nc 的 -u 写在端点里：写成 {endpoint}（{command}）",
    ),
    (
        "nc's -e/-c: write --exec CMD (no shell) or --sh-exec CMD (through sh -c), e.g. sockmate listen 9999 --exec cat",
        "nc 的 -e/-c：写成 --exec 命令（不经过 shell）或 --sh-exec 命令（经过 sh -c），例如 sockmate listen 9999 --exec cat",
    ),
    // ---- Front-end wrappers and catch-alls (last) ----
    // The program's name prefix stays as it is, for scripts that look for it.
    ("sockmate: {message}", "sockmate: {message}"),
    ("  hint: {hint}", "  提示：{hint}"),
    ("{cause} (os error {code})", "{cause}（系统错误 {code}）"),
    ("{where}: {cause}", "{where}：{cause}"),
];
