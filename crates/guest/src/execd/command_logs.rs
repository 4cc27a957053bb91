//! GET /command/{id}/logs?cursor= (src/guest/execd/command-logs.ts): a background command's
//! combined output from byte `cursor` (default 0) as text/plain; the
//! EXECD-COMMANDS-TAIL-CURSOR header is where the next read starts.
use http::{Response, header};

use super::Execd;
use super::errors::{ExecdError, ExecdResult};
use crate::error::Code;
use crate::http::query::Query;
use crate::http::respond::{self, HttpResponse};

const TAIL_CURSOR_HEADER: &str = "execd-commands-tail-cursor";

pub fn command_logs(execd: &Execd, id: &str, query: &Query) -> ExecdResult<HttpResponse> {
    let rec = execd.commands.get(id)?;
    let raw = query.get("cursor").unwrap_or("0");
    let cursor: usize = if raw.is_empty() { Ok(0) } else { raw.parse() }
        .map_err(|_| ExecdError::new(Code::InvalidArgument, format!("cursor '{raw}' must be a non-negative integer")))?;
    let log = rec.log.lock().unwrap();
    let content = log.get(cursor..).unwrap_or_default().to_vec();
    Ok(Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .header(header::CONTENT_LENGTH, content.len())
        .header(TAIL_CURSOR_HEADER, cursor.max(log.len()))
        .body(respond::full(content))
        .expect("valid headers"))
}
