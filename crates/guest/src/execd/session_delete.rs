//! DELETE /session/{id} (src/guest/execd/session-delete.ts): ends the session's bash and
//! everything it started.
use std::sync::Arc;

use super::Execd;
use super::bash_session::BashSession;
use super::errors::{ExecdError, ExecdResult};
use crate::error::Code;
use crate::http::respond::{self, HttpResponse};

pub fn find_session(execd: &Execd, id: &str) -> ExecdResult<Arc<BashSession>> {
    execd.sessions.lock().unwrap().get(id).cloned().ok_or_else(|| {
        ExecdError::with_code(
            Code::NotFound,
            "RUNTIME_ERROR",
            format!("session '{id}' does not exist (it was deleted or its bash exited); create one with POST /session"),
        )
    })
}

pub fn delete_session(execd: &Execd, id: &str) -> ExecdResult<HttpResponse> {
    find_session(execd, id)?.close();
    execd.sessions.lock().unwrap().remove(id);
    Ok(respond::empty(200))
}
