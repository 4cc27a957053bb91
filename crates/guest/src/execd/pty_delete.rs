//! DELETE /pty/{id} (src/guest/execd/pty-delete.ts): kills the session's process, closes its
//! client and forgets it.
use super::Execd;
use super::errors::ExecdResult;
use super::pty_status::find_pty;
use crate::http::respond::{self, HttpResponse};

pub fn delete_pty(execd: &Execd, id: &str) -> ExecdResult<HttpResponse> {
    find_pty(execd, id)?.close();
    execd.ptys.lock().unwrap().remove(id);
    Ok(respond::empty(200))
}
