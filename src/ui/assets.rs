//! The page, compiled into the binary: plain HTML, CSS and JavaScript
//! modules from the repository's `ui/` folder, no build step, no CDN.

/// The public bootstrap page (it holds no data; it stores the token from
/// the address's `#token=` and loads the app, which needs the token).
pub const INDEX: &str = include_str!("../../ui/index.html");

/// One file of the app.
#[derive(Debug, Clone, Copy)]
pub struct Asset {
    /// Its name under `/app/`.
    pub name: &'static str,
    /// Its content type.
    pub mime: &'static str,
    /// Its text.
    pub body: &'static str,
}

const JS: &str = "text/javascript; charset=utf-8";

/// Every file of the app.
pub const ASSETS: &[Asset] = &[
    Asset {
        name: "app.css",
        mime: "text/css; charset=utf-8",
        body: include_str!("../../ui/app.css"),
    },
    Asset {
        name: "main.js",
        mime: JS,
        body: include_str!("../../ui/js/main.js"),
    },
    Asset {
        name: "charts.js",
        mime: JS,
        body: include_str!("../../ui/js/charts.js"),
    },
    Asset {
        name: "conn.js",
        mime: JS,
        body: include_str!("../../ui/js/conn.js"),
    },
    Asset {
        name: "i18n.js",
        mime: JS,
        body: include_str!("../../ui/js/i18n.js"),
    },
    Asset {
        name: "log.js",
        mime: JS,
        body: include_str!("../../ui/js/log.js"),
    },
    Asset {
        name: "send.js",
        mime: JS,
        body: include_str!("../../ui/js/send.js"),
    },
    Asset {
        name: "sessions.js",
        mime: JS,
        body: include_str!("../../ui/js/sessions.js"),
    },
    Asset {
        name: "util.js",
        mime: JS,
        body: include_str!("../../ui/js/util.js"),
    },
];

/// The app file called `name`.
pub fn find(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}
