//! DELETE /command?id= (src/guest/execd/command-interrupt.ts): kills a running command's
//! process group; a command that already ended is left as it is.
use super::Execd;
use super::errors::ExecdResult;
use super::request::require_query;
use crate::http::query::Query;
use crate::http::respond::{self, HttpResponse};

pub fn interrupt_command(execd: &Execd, query: &Query) -> ExecdResult<HttpResponse> {
    let rec = execd.commands.get(require_query(query, "id")?)?;
    if rec.handle.end().is_none() {
        rec.handle.kill(libc::SIGKILL);
    }
    Ok(respond::empty(200))
}
