//! envd's plain-HTTP endpoints beside the RPC services (src/guest/http/routes.ts). Each route
//! answers through respond.rs; an unknown route is 404 `not_found`.
use std::sync::Arc;

use http::request::Parts;

use super::respond::{self, HttpResponse};
use crate::auth::{ACCESS_TOKEN_HEADER, require_token};
use crate::context::Guest;
use crate::error::{Code, GuestError, GuestResult};
use crate::process::Processes;

pub async fn route<B>(guest: Arc<Guest>, processes: &Processes, parts: Parts, _body: B) -> HttpResponse {
    match dispatch(&guest, processes, &parts).await {
        Ok(res) => res,
        Err(err) => respond::error(&err, None),
    }
}

async fn dispatch(guest: &Guest, processes: &Processes, parts: &Parts) -> GuestResult<HttpResponse> {
    let path = parts.uri.path();
    match (parts.method.as_str(), path) {
        ("GET", "/health") => Ok(respond::empty(204)),
        ("GET", "/envs") => {
            let state = guest.state();
            require_token(&state, header(parts, ACCESS_TOKEN_HEADER))?;
            Ok(respond::json(200, &serde_json::to_value(&state.env_vars).expect("a string map serialises")))
        }
        // agentbox's own: how the template's start command stands (process/start_command.rs).
        ("GET", "/start-command") => {
            require_token(&guest.state(), header(parts, ACCESS_TOKEN_HEADER))?;
            let report = processes.start_command().ok_or_else(|| GuestError::new(Code::NotFound, "this sandbox has no start command"))?;
            Ok(respond::json(200, &report.view()))
        }
        (method, path) => Err(GuestError::new(Code::NotFound, format!("no route {method} {path}"))),
    }
}

pub fn header<'a>(parts: &'a Parts, name: &str) -> Option<&'a str> {
    parts.headers.get(name).and_then(|v| v.to_str().ok())
}
