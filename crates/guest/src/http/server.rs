use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use connectrpc::{ConnectError, ConnectRpcService, Router};
use connectrpc::interceptor::{Interceptor, Next, NextStream, PayloadStream, StreamRequest, StreamResponse, UnaryRequest, UnaryResponse};
use http::{HeaderValue, Method, Request, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;

use super::respond::{self, HttpResponse};
use super::rest;
use crate::auth::{ACCESS_TOKEN_HEADER, require_token};
use crate::context::Guest;
use crate::filesystem::FilesystemService;
use crate::process::Processes;

/// envd keeps idle connections 640 s so long-lived SDK clients reuse them.
const IDLE_TIMEOUT: Duration = Duration::from_secs(640);

/// The Connect services' procedure paths start with their package-qualified names.
const RPC_PREFIXES: [&str; 2] = ["/process.Process/", "/filesystem.Filesystem/"];

/// Every RPC must carry the sandbox's access token when one is set.
struct TokenCheck(Arc<Guest>);

impl TokenCheck {
    fn check(&self, headers: &http::HeaderMap) -> Result<(), ConnectError> {
        let given = headers.get(ACCESS_TOKEN_HEADER).and_then(|v| v.to_str().ok());
        Ok(require_token(&self.0.state(), given)?)
    }
}

#[connectrpc::interceptor::async_trait]
impl Interceptor for TokenCheck {
    async fn intercept_unary(&self, req: UnaryRequest, next: Next<'_>) -> Result<UnaryResponse, ConnectError> {
        self.check(req.ctx.headers())?;
        next.run(req).await
    }

    async fn intercept_streaming(&self, req: StreamRequest, inbound: PayloadStream, next: NextStream<'_>) -> Result<StreamResponse, ConnectError> {
        self.check(req.ctx.headers())?;
        next.run(req, inbound).await
    }
}

/// The Connect router with every service registered; each service module adds itself here.
fn rpc_router(guest: &Arc<Guest>, processes: &Arc<Processes>) -> Router {
    Router::new()
        .add_service(processes.clone())
        .add_service(Arc::new(FilesystemService::new(guest.clone())))
}

/// CORS for the browser SDK: any origin, every header exposed; preflights answered here.
fn with_cors(mut res: HttpResponse) -> HttpResponse {
    let h = res.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, HeaderValue::from_static("*"));
    h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("*"));
    res
}

fn preflight(req: &Request<Incoming>) -> HttpResponse {
    let allow = req.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned().unwrap_or(HeaderValue::from_static("*"));
    let mut res = respond::empty(204);
    let h = res.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, POST, HEAD, OPTIONS"));
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, allow);
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("7200"));
    res
}

async fn handle(guest: Arc<Guest>, processes: Arc<Processes>, rpc: ConnectRpcService, req: Request<Incoming>) -> Result<HttpResponse, Infallible> {
    if req.method() == Method::OPTIONS {
        return Ok(with_cors(preflight(&req)));
    }
    let path = req.uri().path();
    let res = if RPC_PREFIXES.iter().any(|p| path.starts_with(p)) {
        let res = tower::ServiceExt::oneshot(rpc, req).await?;
        res.map(|body| body.map_err(|never| match never {}).boxed_unsync())
    } else {
        let (parts, body) = req.into_parts();
        rest::route(guest, &processes, parts, body).await
    };
    Ok(with_cors(res))
}

/// Listens on the configured address and serves until the process ends; returns the bound port.
pub async fn serve(guest: Arc<Guest>, processes: Arc<Processes>, host: &str, port: u16) -> std::io::Result<(u16, tokio::task::JoinHandle<()>)> {
    let rpc = ConnectRpcService::new(rpc_router(&guest, &processes)).with_interceptor(TokenCheck(guest.clone()));
    serve_with(host, port, move |req| handle(guest.clone(), processes.clone(), rpc.clone(), req)).await
}

/// One HTTP/1.1 listener on `host:port` answering every request with `handler` (envd's, and
/// execd's beside it); returns the bound port and the accepting task.
pub async fn serve_with<H, F>(host: &str, port: u16, handler: H) -> std::io::Result<(u16, tokio::task::JoinHandle<()>)>
where
    H: Fn(Request<Incoming>) -> F + Clone + Send + Sync + 'static,
    F: Future<Output = Result<HttpResponse, Infallible>> + Send + 'static,
{
    let listener = TcpListener::bind((host, port)).await?;
    let bound: SocketAddr = listener.local_addr()?;
    let task = tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let _ = stream.set_nodelay(true);
            let handler = handler.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(handler);
                let _ = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(IDLE_TIMEOUT)
                    .serve_connection(TokioIo::new(stream), service)
                    // execd's PTY WebSocket (GET /pty/{id}/ws) takes its connection over.
                    .with_upgrades()
                    .await;
            });
        }
    });
    Ok((bound.port(), task))
}
