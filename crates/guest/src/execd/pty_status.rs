//! GET /pty/{id} (src/guest/execd/pty-status.ts): `{session_id, running, output_offset}`; the
//! offset is where a reconnect's `since=` can resume.
use std::sync::Arc;

use serde_json::json;

use super::Execd;
use super::errors::{ExecdError, ExecdResult};
use super::pty_session::PtySession;
use crate::error::Code;
use crate::http::respond::{self, HttpResponse};

pub fn find_pty(execd: &Execd, id: &str) -> ExecdResult<Arc<PtySession>> {
    execd.ptys.lock().unwrap().get(id).cloned().ok_or_else(|| {
        ExecdError::with_code(Code::NotFound, "RUNTIME_ERROR", format!("PTY session '{id}' does not exist (it was deleted); create one with POST /pty"))
    })
}

pub fn pty_status(execd: &Execd, id: &str) -> ExecdResult<HttpResponse> {
    let s = find_pty(execd, id)?;
    let offset = s.state.lock().unwrap().output.end();
    Ok(respond::json(200, &json!({ "session_id": id, "running": s.running(), "output_offset": offset })))
}
