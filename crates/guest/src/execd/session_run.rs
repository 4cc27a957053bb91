//! POST /session/{id}/run (src/guest/execd/session-run.ts): runs a line in the session's bash,
//! streamed like POST /command. The answer starts once the runs queued before it have ended.
use std::time::Duration;

use hyper::body::Incoming;
use serde::Deserialize;

use super::Execd;
use super::bash_session::SessionRun;
use super::errors::{ExecdError, ExecdResult};
use super::request::{at_least, read_body};
use super::session_delete::find_session;
use super::sse::open_event_stream;
use crate::error::Code;
use crate::http::respond::HttpResponse;

#[derive(Deserialize)]
struct RunInSession {
    command: String,
    cwd: Option<String>,
    timeout: Option<i64>,
}

pub async fn run_in_session(execd: &Execd, id: &str, body: Incoming) -> ExecdResult<HttpResponse> {
    let session = find_session(execd, id)?;
    let body: RunInSession = read_body(body).await?;
    if body.command.is_empty() {
        return Err(ExecdError::new(Code::InvalidArgument, "invalid request body: command: must not be empty"));
    }
    let timeout = at_least("timeout", body.timeout, 1)?.map(|ms| Duration::from_millis(ms as u64));
    let turn = session.wait_turn().await?;
    let (sink, res) = open_event_stream();
    let run = SessionRun { command: body.command, cwd: body.cwd, timeout };
    tokio::spawn(async move { session.run(turn, run, sink).await });
    Ok(res)
}
