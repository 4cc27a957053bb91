//! execd's code contexts run on the sandbox's code interpreter, the same Jupyter kernels the E2B
//! code interpreter uses (templates/code-interpreter-v1.yaml, port 49999): this is its client
//! (src/guest/execd/code-interpreter.ts), one HTTP/1.1 connection per request over hyper's
//! client. A sandbox without it answers 501 NOT_SUPPORTED naming the template that has it.
use bytes::Bytes;
use http::{Method, Request, Response, Uri, header};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use serde::Deserialize;
use serde_json::Value;
use tokio::net::TcpStream;

use super::Execd;
use super::errors::{ExecdError, ExecdResult};
use super::files_download::URI_COMPONENT;
use crate::auth::ACCESS_TOKEN_HEADER;
use crate::error::Code;

#[derive(Deserialize)]
pub struct InterpreterContext {
    pub id: String,
    pub language: String,
}

fn no_interpreter() -> ExecdError {
    ExecdError::with_code(Code::NotSupported, "NOT_SUPPORTED", "this sandbox runs no code interpreter; create it from the code-interpreter-v1 template")
}

async fn text(res: Response<Incoming>) -> String {
    res.into_body().collect().await.map(|b| String::from_utf8_lossy(&b.to_bytes()).into_owned()).unwrap_or_default()
}

/// Sends one request to the interpreter; a refusal becomes execd's error for it.
pub async fn interpreter_request(execd: &Execd, method: Method, path: &str, body: Option<&Value>) -> ExecdResult<Response<Incoming>> {
    let uri: Uri = format!("{}{path}", execd.code_interpreter_url.trim_end_matches('/')).parse().map_err(|_| no_interpreter())?;
    let host = uri.host().ok_or_else(no_interpreter)?;
    let stream = TcpStream::connect((host, uri.port_u16().unwrap_or(80))).await.map_err(|_| no_interpreter())?;
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|_| no_interpreter())?;
    tokio::spawn(connection);
    let mut req = Request::builder()
        .method(method)
        .uri(uri.path_and_query().map_or("/", |p| p.as_str()))
        .header(header::HOST, uri.authority().map_or(host, |a| a.as_str()))
        .header(header::CONTENT_TYPE, "application/json");
    // The interpreter reads the sandbox's env from the guest with the caller's token (server.py).
    if let Some(token) = execd.guest.state().access_token {
        req = req.header(ACCESS_TOKEN_HEADER, token);
    }
    let body = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
    let req = req.body(Full::new(body)).map_err(|_| no_interpreter())?;
    let res = sender.send_request(req).await.map_err(|_| no_interpreter())?;
    let status = res.status().as_u16();
    if res.status().is_success() {
        return Ok(res);
    }
    let text = text(res).await;
    Err(match status {
        404 => ExecdError::with_code(Code::NotFound, "CONTEXT_NOT_FOUND", if text.is_empty() { format!("not found: {path}") } else { text }),
        400 => ExecdError::new(Code::InvalidArgument, text),
        _ => ExecdError::with_code(Code::Internal, "RUNTIME_ERROR", format!("code interpreter answered {status}: {text}")),
    })
}

/// The interpreter's JSON answer to a request.
pub async fn interpreter_json<T: serde::de::DeserializeOwned>(execd: &Execd, method: Method, path: &str, body: Option<&Value>) -> ExecdResult<T> {
    let res = interpreter_request(execd, method, path, body).await?;
    let text = text(res).await;
    serde_json::from_str(&text).map_err(|e| ExecdError::with_code(Code::Internal, "RUNTIME_ERROR", format!("code interpreter answered no JSON: {e}")))
}

pub async fn list_contexts(execd: &Execd) -> ExecdResult<Vec<InterpreterContext>> {
    interpreter_json(execd, Method::GET, "/contexts", None).await
}

pub async fn find_context(execd: &Execd, id: &str) -> ExecdResult<InterpreterContext> {
    list_contexts(execd)
        .await?
        .into_iter()
        .find(|c| c.id == id)
        .ok_or_else(|| ExecdError::with_code(Code::NotFound, "CONTEXT_NOT_FOUND", format!("code context '{id}' does not exist")))
}

pub async fn delete_context(execd: &Execd, id: &str) -> ExecdResult<()> {
    let path = format!("/contexts/{}", percent_encoding::utf8_percent_encode(id, URI_COMPONENT));
    interpreter_request(execd, Method::DELETE, &path, None).await.map(drop)
}
