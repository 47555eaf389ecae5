//! `serial:///dev/ttyUSB0?baud=115200&data=8&parity=none&stop=1&flow=none`:
//! a serial port and its line settings, parsed without I/O. Every setting
//! has a default (115200 8N1, no flow control); the canonical form written
//! by `Display` names them all and parses back to the same value.

use std::fmt;
use std::path::PathBuf;

/// Parity bit setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Parity {
    /// No parity bit.
    None,
    /// Even parity.
    Even,
    /// Odd parity.
    Odd,
}

/// Flow control setting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flow {
    /// None.
    None,
    /// RTS/CTS lines.
    Hardware,
    /// XON/XOFF characters.
    Software,
}

/// A serial port path and its line settings.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct SerialSpec {
    /// The device, e.g. `/dev/ttyUSB0`.
    pub path: PathBuf,
    /// Bits per second.
    pub baud: u32,
    /// Data bits, 5 to 8.
    pub data: u8,
    /// Parity.
    pub parity: Parity,
    /// Stop bits, 1 or 2.
    pub stop: u8,
    /// Flow control.
    pub flow: Flow,
}

/// The default speed when `baud=` is not given.
pub const DEFAULT_BAUD: u32 = 115_200;

/// The highest speed accepted (Linux drivers go up to 4 Mbit/s).
pub const MAX_BAUD: u32 = 4_000_000;

const EXAMPLE: &str = if cfg!(windows) {
    "serial://COM3?baud=115200&data=8&parity=none&stop=1&flow=none"
} else {
    "serial:///dev/ttyUSB0?baud=115200&data=8&parity=none&stop=1&flow=none"
};

/// True when `path` names a port on this platform: an absolute device path
/// on Unix; on Windows a COM port (`COM3`) or a device path (`\\.\COM10`).
fn is_port_name(path: &str, windows: bool) -> bool {
    if windows {
        let com = path.get(..3).is_some_and(|p| p.eq_ignore_ascii_case("com"))
            && path.len() > 3
            && path[3..].bytes().all(|b| b.is_ascii_digit());
        com || (path.starts_with("\\\\.\\") && path.len() > 4)
    } else {
        path.starts_with('/') && path.len() >= 2
    }
}

impl SerialSpec {
    /// Parses what follows `serial://` (`/dev/ttyUSB0?baud=9600…`); `input`
    /// is the whole endpoint, for messages.
    pub fn parse(rest: &str, input: &str) -> Result<SerialSpec, String> {
        let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
        if !is_port_name(path, cfg!(windows)) {
            let what = if cfg!(windows) {
                "must be a COM port"
            } else {
                "must be absolute"
            };
            return Err(format!(
                "serial port path in {input} {what} (write {EXAMPLE})"
            ));
        }
        if path.contains('\0') {
            return Err(format!("serial port path in {input} contains a NUL byte"));
        }
        let mut spec = SerialSpec {
            path: PathBuf::from(path),
            baud: DEFAULT_BAUD,
            data: 8,
            parity: Parity::None,
            stop: 1,
            flow: Flow::None,
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let bad = |what: &str| {
                format!(
                    "invalid {key}=\"{}\" in {input} ({what})",
                    value.escape_debug()
                )
            };
            match key.to_ascii_lowercase().as_str() {
                "baud" | "speed" => {
                    spec.baud = value
                        .parse::<u32>()
                        .ok()
                        .filter(|b| (1..=MAX_BAUD).contains(b))
                        .ok_or_else(|| bad("give bits per second, e.g. 9600 or 115200"))?;
                }
                "data" | "databits" => {
                    spec.data = value
                        .parse::<u8>()
                        .ok()
                        .filter(|d| (5..=8).contains(d))
                        .ok_or_else(|| bad("data bits are 5, 6, 7 or 8"))?;
                }
                "parity" => {
                    spec.parity = match value.to_ascii_lowercase().as_str() {
                        "none" | "n" => Parity::None,
                        "even" | "e" => Parity::Even,
                        "odd" | "o" => Parity::Odd,
                        _ => return Err(bad("parity is none, even or odd")),
                    };
                }
                "stop" | "stopbits" => {
                    spec.stop = match value {
                        "1" => 1,
                        "2" => 2,
                        _ => return Err(bad("stop bits are 1 or 2")),
                    };
                }
                "flow" => {
                    spec.flow = match value.to_ascii_lowercase().as_str() {
                        "none" => Flow::None,
                        "hardware" | "rtscts" | "hw" => Flow::Hardware,
                        "software" | "xonxoff" | "sw" => Flow::Software,
                        _ => return Err(bad("flow is none, hardware (RTS/CTS) or software (XON/XOFF)")),
                    };
                }
                _ => {
                    return Err(format!(
                        "unknown serial setting \"{}\" in {input} (use baud, data, parity, stop and flow, e.g. {EXAMPLE})",
                        key.escape_debug()
                    ))
                }
            }
        }
        Ok(spec)
    }
}

impl fmt::Display for SerialSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parity = match self.parity {
            Parity::None => "none",
            Parity::Even => "even",
            Parity::Odd => "odd",
        };
        let flow = match self.flow {
            Flow::None => "none",
            Flow::Hardware => "hardware",
            Flow::Software => "software",
        };
        write!(
            f,
            "{}?baud={}&data={}&parity={parity}&stop={}&flow={flow}",
            self.path.display(),
            self.baud,
            self.data,
            self.stop
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn defaults_and_settings() {
        let s = SerialSpec::parse("/dev/ttyUSB0", "x").unwrap();
        assert_eq!(
            (s.baud, s.data, s.parity, s.stop, s.flow),
            (115_200, 8, Parity::None, 1, Flow::None)
        );
        let s = SerialSpec::parse(
            "/dev/ttyS1?baud=9600&data=7&parity=even&stop=2&flow=rtscts",
            "x",
        )
        .unwrap();
        assert_eq!(
            (s.baud, s.data, s.parity, s.stop, s.flow),
            (9600, 7, Parity::Even, 2, Flow::Hardware)
        );
        assert_eq!(
            s.to_string(),
            "/dev/ttyS1?baud=9600&data=7&parity=even&stop=2&flow=hardware"
        );
    }

    #[test]
    fn port_names_are_paths_on_unix_and_com_ports_on_windows() {
        for good in ["/dev/ttyUSB0", "/dev/pts/3"] {
            assert!(is_port_name(good, false), "{good}");
            assert!(!is_port_name(good, true), "{good}");
        }
        for good in ["COM3", "com10", "\\\\.\\COM12"] {
            assert!(is_port_name(good, true), "{good}");
            assert!(!is_port_name(good, false), "{good}");
        }
        for bad in ["COM", "COMx", "LPT1", "tty", "", "/"] {
            assert!(
                !is_port_name(bad, true) && !is_port_name(bad, false),
                "{bad}"
            );
        }
    }

    #[test]
    fn errors_name_the_bad_part() {
        let err = |r: &str| SerialSpec::parse(r, "IN").unwrap_err();
        assert!(err("dev/tty").contains("must be absolute"));
        assert!(err("/dev/tty?baud=fast").contains("invalid baud=\"fast\" in IN"));
        assert!(err("/dev/tty?baud=0").contains("invalid baud"));
        assert!(err("/dev/tty?data=9").contains("5, 6, 7 or 8"));
        assert!(err("/dev/tty?parity=mark").contains("none, even or odd"));
        assert!(err("/dev/tty?stop=3").contains("1 or 2"));
        assert!(err("/dev/tty?flow=magic").contains("hardware"));
        assert!(err("/dev/tty?bauds=1").contains("unknown serial setting \"bauds\""));
    }

    proptest! {
        #[test]
        fn never_panics_and_errors_are_one_line(s in "\\PC{0,60}") {
            if let Err(e) = SerialSpec::parse(&s, "IN") {
                prop_assert!(!e.contains('\n'));
            }
        }
    }
}
