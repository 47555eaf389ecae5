//! The HTTP side: `/` (the public bootstrap page), `/app/FILE` (the app,
//! token needed) and `/ws` (the one WebSocket, token needed). Every
//! request is checked for our `Host` and, when it has one, our `Origin`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{Path, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use axum::Router;

use super::auth::{host_ok, origin_ok, token_from, Token};
use super::records::RecordDir;
use super::sessions::Sessions;
use crate::shutdown::Shutdown;

/// What every request handler sees.
#[derive(Clone)]
struct App {
    token: Arc<Token>,
    port: u16,
    sessions: Sessions,
}

/// A running UI server.
pub struct UiServer {
    addr: SocketAddr,
    token: Arc<Token>,
    sessions: Sessions,
}

impl UiServer {
    /// Binds `addr` and serves the page until `shutdown`; records go into
    /// `records`.
    pub async fn start(
        addr: SocketAddr,
        shutdown: Shutdown,
        records: RecordDir,
    ) -> anyhow::Result<UiServer> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| anyhow::anyhow!("cannot serve the ui on {addr}: {e}"))?;
        let addr = listener.local_addr()?;
        let token = Arc::new(Token::random()?);
        let sessions = Sessions::new(shutdown.clone(), records);
        let app = App {
            token: Arc::clone(&token),
            port: addr.port(),
            sessions: sessions.clone(),
        };
        let router = Router::new()
            .route("/", get(index))
            .route("/app/{file}", get(asset))
            .route("/ws", get(websocket))
            .layer(middleware::from_fn_with_state(app.clone(), guard))
            .with_state(app);
        tokio::spawn(super::http::serve(
            listener,
            router,
            shutdown.token().clone(),
        ));
        Ok(UiServer {
            addr,
            token,
            sessions,
        })
    }

    /// The page's address with its token: what `ui on …` prints.
    pub fn url(&self) -> String {
        let ip = match self.addr.ip() {
            IpAddr::V4(ip) if ip.is_unspecified() => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(ip) if ip.is_unspecified() => IpAddr::V6(Ipv6Addr::LOCALHOST),
            ip => ip,
        };
        let host = SocketAddr::new(ip, self.addr.port());
        format!("http://{host}/#token={}", self.token.as_str())
    }

    /// The bound address.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The sessions it shows.
    pub fn sessions(&self) -> &Sessions {
        &self.sessions
    }
}

fn header_str(headers: &HeaderMap, name: header::HeaderName) -> Option<&str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Host and Origin for everything; the token for everything but `/`.
async fn guard(State(app): State<App>, request: Request, next: Next) -> Response {
    let headers = request.headers();
    let host = header_str(headers, header::HOST).unwrap_or("");
    if !host_ok(host, app.port) {
        return (
            StatusCode::FORBIDDEN,
            "wrong Host (open the address sockmate printed)\n",
        )
            .into_response();
    }
    if !origin_ok(header_str(headers, header::ORIGIN), host) {
        return (StatusCode::FORBIDDEN, "cross-origin requests are refused\n").into_response();
    }
    if request.uri().path() != "/" {
        let given = token_from(
            request.uri().query(),
            header_str(headers, header::COOKIE),
            app.port,
        );
        if !given.is_some_and(|t| app.token.matches(&t)) {
            return (
                StatusCode::UNAUTHORIZED,
                "missing or wrong token (open the address sockmate printed, with its #token=…)\n",
            )
                .into_response();
        }
    }
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        header::HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::HeaderName::from_static("x-frame-options"),
        header::HeaderValue::from_static("DENY"),
    );
    response
}

async fn index() -> Html<&'static str> {
    Html(super::assets::INDEX)
}

async fn asset(Path(file): Path<String>) -> Response {
    match super::assets::find(&file) {
        Some(a) => ([(header::CONTENT_TYPE, a.mime)], a.body).into_response(),
        None => (StatusCode::NOT_FOUND, "no such file\n").into_response(),
    }
}

async fn websocket(State(app): State<App>, upgrade: WebSocketUpgrade) -> Response {
    upgrade
        .max_message_size(16 * 1024 * 1024)
        .on_upgrade(move |socket| super::socket::serve(socket, app.sessions))
}
