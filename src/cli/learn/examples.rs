//! The EXAMPLES section at the end of each command's `--help`. Every
//! port is 8000 or above, so the lines work without root.

/// `sockmate connect --help`.
pub const CONNECT: &str = "\
Examples:
  sockmate connect 127.0.0.1:8000                      # type lines, see replies (like nc)
  sockmate connect udp://127.0.0.1:9999 --send 'hello\\n'  # one UDP datagram
  sockmate connect unix:///tmp/app.sock                # a Unix stream socket
  sockmate connect 127.0.0.1:8000 --encoding gbk       # a GBK device: type UTF-8, send GBK
  sockmate connect 127.0.0.1:8000 --send-hex '01 03 00 00' --hex  # bytes out, hex dump back
  sockmate connect 127.0.0.1:8000 --explain            # each socket call with its Python line
  sockmate connect 127.0.0.1:8000 --send ping --interval 1s --count 5 -t";

/// `sockmate listen --help`.
pub const LISTEN: &str = "\
Examples:
  sockmate listen 8000                                 # one client, like nc -l 8000
  sockmate listen 8000 -k --serve echo                 # an echo server for many clients
  sockmate listen 8000 -k --banner 'hello, i am server' --reply 'Loop_msg:{line}!' --quit-word exit
  sockmate listen udp://127.0.0.1:9999 --reply 'hello,{text}!'
  sockmate listen 8000 -k --serve time                 # the timestamp server
  sockmate listen 8000 -k --serve chat                 # a chat room (/nick NAME, /who)
  sockmate listen 8000 -k --respond 'PING=>PONG\\n' --respond 're:^GET (?P<k>\\w+)=>got ${k}\\n'
  sockmate listen 8000 -k --exec sh --exec-per-message # remote commands, output back
  sockmate listen 1080 --serve socks5                  # a SOCKS5 proxy (curl --socks5-hostname 127.0.0.1:1080 …)
  sockmate listen 3128 --serve http-proxy --auth u:p   # an HTTP proxy with a login (curl -x http://u:p@127.0.0.1:3128 …)
  sockmate listen 8000 --encoding gbk --reply '收到 {line}\\n' --frame line
  sockmate listen 8000 --explain --lang zh             # socket calls narrated in Chinese";

/// `sockmate relay --help`.
pub const RELAY: &str = "\
Examples:
  sockmate relay 8080 127.0.0.1:80                     # forward a port
  sockmate relay 8080 127.0.0.1:80 --dump hex          # and show the traffic both ways
  sockmate relay unix:///tmp/app.sock 127.0.0.1:8000   # Unix socket in front of TCP
  sockmate relay 8053 udp://127.0.0.1:53 --frame len16 # TCP clients to a UDP server
  sockmate relay 8080 127.0.0.1:80 --explain";

/// `sockmate replay --help`.
pub const REPLAY: &str = "\
Examples:
  sockmate relay 8000 127.0.0.1:502 --dump hex --log device.log   # record a device through a relay
  sockmate replay device.log 8000 --as server          # then be the device: recorded replies
  sockmate replay device.log 8000 --as server --ignore 0..2   # Modbus TCP: any transaction id
  sockmate replay device.log 8000 --as server --match order --unmatched-reply 'hex:ff'
  sockmate replay session.jsonl 127.0.0.1:502 --as client --speed 2   # be the client, twice as fast
  sockmate replay session.jsonl 127.0.0.1:502 --as client --no-timing --loop
  sockmate replay chat.log 8000 --as server --encoding gbk  # a GBK text protocol (text log)";

/// `sockmate bench --help`.
pub const BENCH: &str = "\
Examples:
  sockmate listen 8000 -k --serve echo &               # something to measure
  sockmate bench 127.0.0.1:8000 -c 8 -d 5s             # 8 connections echoing for 5 s
  sockmate bench 127.0.0.1:8000 --mode send -s 65536    # one-way throughput
  sockmate bench 127.0.0.1:8000 --json > a.json        # a report to merge later
  sockmate bench merge a.json b.json                   # add up reports from several machines
  sockmate bench 127.0.0.1:8000 --report run.html      # a page with the latency curve and charts
  sockmate bench merge --compare a.json b.json --report cmp.html   # two runs on the same charts";

/// `sockmate send --help`.
pub const SEND: &str = "\
Examples:
  sockmate receive 9000 -d downloads &                 # a receiver
  sockmate send 127.0.0.1:9000 photo.jpg notes.txt     # send files, checked by BLAKE3
  sockmate send 127.0.0.1:9000 -r project/             # a directory
  sockmate send --listen 9000 -k report.pdf            # serve a file to whoever connects (the download server)";

/// `sockmate receive --help`.
pub const RECEIVE: &str = "\
Examples:
  sockmate receive 9000 -d downloads                   # wait for one sender
  sockmate receive 9000 -d downloads -k                # any number of senders
  sockmate receive --connect 127.0.0.1:9000 -d .       # fetch from `send --listen`
  sockmate receive 9000 --raw -o dump.bin              # bare bytes, like nc -l 9000 > dump.bin";

/// `sockmate scan --help`.
pub const SCAN: &str = "\
Examples:
  sockmate scan 127.0.0.1 1-1024                       # which TCP ports are open
  sockmate scan 127.0.0.1 8000,8080,9000-9100 --open   # only the open ones
  sockmate scan 127.0.0.1 53 --udp --send hi           # UDP: needs a payload the service answers";

/// `sockmate ping --help`.
pub const PING: &str = "\
Examples:
  sockmate ping 127.0.0.1 --count 3                 # three echo requests, then ping(8)'s summary
  sockmate ping ::1 -c 5 -i 200ms --size 1000       # IPv6, faster, bigger
  sockmate ping localhost -c 2 --explain            # the socket() call and the Python lines
  sockmate ping 127.0.0.1 -c 3 --json               # one JSON event per reply, then a summary
  sockmate bench icmp://127.0.0.1 -d 5s             # latency percentiles over ICMP";

/// `sockmate completions --help`.
pub const COMPLETIONS: &str = "\
Examples:
  sockmate completions bash > ~/.local/share/bash-completion/completions/sockmate
  sockmate completions zsh > ~/.zfunc/_sockmate";

/// `sockmate man --help`.
pub const MAN: &str = "\
Examples:
  sockmate man | man -l -                              # read sockmate(1)
  sockmate man target/man                              # one page per command";

/// Splits one example line into words: single quotes group, a `#`
/// comment, a trailing `&` and anything after `>` or `|` are dropped.
#[cfg(test)]
fn words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut quoted = false;
    let mut any = false;
    for c in line.chars() {
        match c {
            '\'' => {
                quoted = !quoted;
                any = true;
            }
            ' ' if !quoted => {
                if any {
                    words.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            '#' | '>' | '|' | '&' if !quoted => break,
            _ => {
                word.push(c);
                any = true;
            }
        }
    }
    if any {
        words.push(word);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_example_parses() {
        for text in [
            CONNECT,
            LISTEN,
            RELAY,
            REPLAY,
            BENCH,
            SEND,
            RECEIVE,
            SCAN,
            PING,
            COMPLETIONS,
            MAN,
        ] {
            for line in text.lines().skip(1) {
                let argv = words(line.trim());
                assert_eq!(argv[0], "sockmate", "{line}");
                if let Err(e) = crate::cli::parse_from(&argv) {
                    panic!("example does not parse: {line}\n{e}");
                }
            }
        }
    }
}
