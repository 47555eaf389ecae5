use super::pattern::{parse, parts};
use super::*;

fn has_chinese(text: &str) -> bool {
    text.chars().any(|c| ('\u{4e00}'..='\u{9fff}').contains(&c))
}

#[test]
fn every_entry_has_both_languages_with_the_same_parts() {
    for (en, zh) in catalogue::CATALOGUE {
        let en_pieces = parse(en).unwrap_or_else(|| panic!("English pattern does not parse: {en}"));
        let zh_pieces = parse(zh).unwrap_or_else(|| panic!("Chinese pattern does not parse: {zh}"));
        let mut en_parts = parts(&en_pieces);
        let mut zh_parts = parts(&zh_pieces);
        en_parts.sort_unstable();
        en_parts.dedup();
        zh_parts.sort_unstable();
        zh_parts.dedup();
        assert_eq!(en_parts, zh_parts, "{en} / {zh}");
        // Only the program-name prefix and the catch-all `{where}: {cause}`
        // have no words of their own (their parts are translated).
        let no_words = matches!(*en, "sockmate: {message}" | "{where}: {cause}");
        assert!(has_chinese(zh) || no_words, "{en} / {zh}");
        assert!(!has_chinese(en), "English pattern in Chinese: {en}");
    }
}

#[test]
fn every_entry_is_reachable_and_english_lines_stay_english() {
    let compiled = pattern::Compiled::new(catalogue::CATALOGUE);
    for (en, _) in catalogue::CATALOGUE {
        // The pattern's own text, parts filled with a plain word, matches
        // (this entry or an earlier, more specific one).
        let sample: String = parse(en)
            .unwrap()
            .iter()
            .map(|p| match p {
                pattern::Piece::Text(t) => t.clone(),
                pattern::Piece::Part(_) => "x1".into(),
            })
            .collect();
        assert!(compiled.translate(&sample, 0).is_some(), "{sample}");
        assert_eq!(translate(&sample, Lang::En), sample);
    }
}

#[test]
fn status_lines_errors_and_hints_read_in_chinese() {
    let cases = [
        ("listening on tcp://127.0.0.1:8000", "正在监听 tcp://127.0.0.1:8000"),
        ("connected: 127.0.0.1:50000", "已连接：127.0.0.1:50000"),
        (
            "closed: 127.0.0.1:50000 (5 bytes in, 20 bytes out, quit word)",
            "已关闭：127.0.0.1:50000（收到 5 字节，发出 20 字节，收到退出词）",
        ),
        (
            "sockmate: connection refused by tcp://127.0.0.1:9 (is anything listening on port 9? start one with: sockmate listen 9)",
            "sockmate: tcp://127.0.0.1:9 拒绝了连接（端口 9 上有程序在监听吗？可以这样启动一个：sockmate listen 9）",
        ),
        (
            "sockmate: cannot resolve host \"nosuch\": failed to lookup address information: Name or service not known",
            "sockmate: 无法解析主机名 \"nosuch\"：查询地址信息失败：名称或服务未知",
        ),
        (
            "sockmate: udp://127.0.0.1:9: connection refused (nothing listening)",
            "sockmate: udp://127.0.0.1:9：连接被拒绝（没有程序在监听）",
        ),
        (
            "sockmate: invalid --reply \"x{txt}\": unknown placeholder {txt} at position 1 (use {text} {line}, or {{ and }} for literal braces)",
            "sockmate: --reply \"x{txt}\" 无效：位置 1 的占位符 {txt} 不认识（可用 {text} {line}；要写花括号本身请用 {{ 和 }}）",
        ),
        ("  hint: did you mean --hex? (sockmate connect --help lists every flag)", "  提示：你是想写 --hex 吗？（sockmate connect --help 列出所有选项）"),
        ("sockmate: no reply from ::1", "sockmate: ::1 没有回复"),
        (
            "sockmate: cannot open an ICMP socket: unprivileged ICMP datagram sockets (socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)) are off (net.ipv4.ping_group_range is \"1 0\", which leaves out your group 65534), and raw ICMP sockets (SOCK_RAW) need root or CAP_NET_RAW; allow one: sudo sysctl -w net.ipv4.ping_group_range=\"0 2147483647\", or sudo setcap cap_net_raw+ep \"$(command -v sockmate)\", or run as root",
            "sockmate: 无法打开 ICMP 套接字：非特权 ICMP 数据报套接字（socket(AF_INET, SOCK_DGRAM, IPPROTO_ICMP)）没有开放（net.ipv4.ping_group_range 是 \"1 0\"，不包括你的组 65534），而原始 ICMP 套接字（SOCK_RAW）需要 root 或 CAP_NET_RAW；任选一种放开：sudo sysctl -w net.ipv4.ping_group_range=\"0 2147483647\"，或 sudo setcap cap_net_raw+ep \"$(command -v sockmate)\"，或以 root 身份运行",
        ),
    ];
    for (en, zh) in cases {
        assert_eq!(translate(en, Lang::Zh), zh);
        assert_eq!(translate(en, Lang::En), en);
    }
    // Unknown lines stay as they are.
    assert_eq!(translate("something new", Lang::Zh), "something new");
}

#[test]
fn every_status_line_of_an_event_is_in_the_catalogue() {
    use crate::event::{CloseReason, ConnInfo, Counters, EventKind};
    use crate::view::status::{status_line, Verbosity};
    let conn = ConnInfo::new(1, "127.0.0.1:5000");
    let mut events = vec![
        EventKind::Listening {
            endpoint: "tcp://127.0.0.1:9".into(),
            note: None,
        },
        EventKind::Open {
            conn: conn.clone(),
            local: "127.0.0.1:9".into(),
            tls: None,
            proxy: None,
            wire: None,
        },
        EventKind::Error {
            conn: None,
            kind: Some(crate::error::NetErrorKind::Refused),
            message: "connection refused (nothing listening)".into(),
        },
    ];
    for reason in [
        CloseReason::Done,
        CloseReason::PeerClosed,
        CloseReason::WaitElapsed,
        CloseReason::IdleTimeout,
        CloseReason::Shutdown,
        CloseReason::Service("quit word".into()),
        CloseReason::Service("closed by the user".into()),
        CloseReason::Service("client left; command killed".into()),
        CloseReason::Service("forgotten: too many datagram peers".into()),
    ] {
        events.push(EventKind::Close {
            conn: conn.clone(),
            counters: Counters::default(),
            reason,
        });
    }
    for event in events {
        let line = status_line(&event, Verbosity::Normal).unwrap();
        let zh = translate(&line, Lang::Zh);
        assert!(has_chinese(&zh), "{line} → {zh}");
        assert!(
            zh.chars().filter(|c| c.is_ascii_alphabetic()).count()
                < line.chars().filter(|c| c.is_ascii_alphabetic()).count(),
            "{line} → {zh}"
        );
    }
}

#[test]
fn the_command_line_and_the_locale_pick_the_language() {
    let none = |_: &str| None;
    let zh_locale = |name: &str| (name == "LANG").then(|| "zh_CN.UTF-8".to_string());
    let args = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(
        Lang::of_command_line(&args(&["sockmate", "connect"]), none),
        Lang::En
    );
    assert_eq!(
        Lang::of_command_line(&args(&["sockmate", "listen", "--lang", "zh"]), none),
        Lang::Zh
    );
    assert_eq!(
        Lang::of_command_line(&args(&["sockmate", "listen", "--lang=zh"]), none),
        Lang::Zh
    );
    assert_eq!(
        Lang::of_command_line(&args(&["sockmate"]), zh_locale),
        Lang::Zh
    );
    assert_eq!(
        Lang::of_command_line(&args(&["sockmate", "--lang", "en"]), zh_locale),
        Lang::En
    );
}
