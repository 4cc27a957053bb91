//! envd's plain-HTTP endpoints beside the RPC services (src/guest/http/routes.ts): /health, /files,
//! /envs, /metrics, /init, and agentbox's /heap-settled. Each route answers through respond.rs;
//! an unknown route is 404 `not_found`.
use std::sync::Arc;

use http::Method;
use http::request::Parts;
use hyper::body::Incoming;

use super::query::Query;
use super::respond::{self, HttpResponse};
use super::{files_get, files_post, heap_settled, init};
use crate::auth::{ACCESS_TOKEN_HEADER, require_token};
use crate::context::Guest;
use crate::error::{Code, GuestError, GuestResult};
use crate::process::Processes;

pub async fn route(guest: Arc<Guest>, processes: &Processes, parts: Parts, body: Incoming) -> HttpResponse {
    match dispatch(&guest, processes, &parts, body).await {
        Ok(res) => res,
        // A full disk on upload is envd's 507, which the SDK turns into NotEnoughSpaceError.
        Err(err) => {
            let full_disk = parts.method == Method::POST && err.code == Code::ResourceExhausted;
            respond::error(&err, full_disk.then_some(507))
        }
    }
}

async fn dispatch(guest: &Guest, processes: &Processes, parts: &Parts, body: Incoming) -> GuestResult<HttpResponse> {
    let path = parts.uri.path();
    let query = Query::parse(parts.uri.query());
    match (parts.method.as_str(), path) {
        ("GET", "/health") => Ok(respond::empty(204)),
        ("GET" | "HEAD", "/files") => files_get::get_files(guest, parts, &query),
        ("POST", "/files") => files_post::post_files(guest, parts, &query, body).await,
        ("POST", "/init") => init::post_init(guest, parts, body).await,
        ("GET", "/envs") => {
            let state = authorize(guest, parts)?;
            Ok(respond::json(200, &serde_json::to_value(&state.env_vars).expect("a string map serialises")))
        }
        ("GET", "/metrics") => {
            authorize(guest, parts)?;
            Ok(respond::json(200, &guest.metrics.snapshot()))
        }
        ("GET", "/heap-settled") => {
            authorize(guest, parts)?;
            heap_settled::heap_settled(&query)
        }
        // agentbox's own: how the template's start command stands (process/start_command.rs).
        ("GET", "/start-command") => {
            authorize(guest, parts)?;
            let report = processes.start_command().ok_or_else(|| GuestError::new(Code::NotFound, "this sandbox has no start command"))?;
            Ok(respond::json(200, &report.view()))
        }
        (method, path) => Err(GuestError::new(Code::NotFound, format!("no route {method} {path}"))),
    }
}

/// The routes that need the sandbox's access token (its X-Access-Token header).
fn authorize(guest: &Guest, parts: &Parts) -> GuestResult<crate::context::GuestState> {
    let state = guest.state();
    require_token(&state, header(parts, ACCESS_TOKEN_HEADER))?;
    Ok(state)
}

pub fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}
