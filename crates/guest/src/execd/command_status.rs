//! GET /command/status/{id} (src/guest/execd/command-status.ts): whether a command still runs
//! and, once ended, how.
use serde_json::{Value, json};

use super::Execd;
use super::errors::ExecdResult;
use super::file_info::iso;
use crate::http::respond::{self, HttpResponse};

pub fn command_status(execd: &Execd, id: &str) -> ExecdResult<HttpResponse> {
    let rec = execd.commands.get(id)?;
    let end = rec.handle.end();
    let mut body = json!({ "id": rec.id, "content": rec.content, "running": end.is_none() });
    let fields = body.as_object_mut().expect("an object");
    if let Some(end) = &end {
        fields.insert("exit_code".into(), end.exit_code.into());
        if let Some(error) = &end.error {
            fields.insert("error".into(), Value::from(error.as_str()));
        }
    }
    fields.insert("started_at".into(), iso(rec.started_at).into());
    if let Some(finished) = *rec.finished_at.lock().unwrap() {
        fields.insert("finished_at".into(), iso(finished).into());
    }
    Ok(respond::json(200, &body))
}
