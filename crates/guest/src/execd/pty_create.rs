//! POST /pty (src/guest/execd/pty-create.ts): records a PTY session (its process starts with
//! the first WebSocket client); `{session_id}`.
use std::sync::Arc;

use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::json;

use super::Execd;
use super::commands::new_execution_id;
use super::errors::ExecdResult;
use super::pty_session::PtySession;
use super::request::read_body;
use super::shell::command_user;
use crate::http::respond::{self, HttpResponse};

#[derive(Deserialize)]
struct CreatePty {
    cwd: Option<String>,
    command: Option<String>,
}

pub async fn create_pty(execd: &Execd, body: Incoming) -> ExecdResult<HttpResponse> {
    let body: CreatePty = read_body(body).await?;
    let id = new_execution_id();
    let command = body.command.filter(|c| !c.is_empty());
    let session = PtySession::new(id.clone(), command_user(execd, None, None)?, body.cwd, command);
    execd.ptys.lock().unwrap().insert(id.clone(), Arc::new(session));
    Ok(respond::json(200, &json!({ "session_id": id })))
}
