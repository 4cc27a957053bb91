//! POST /code (src/guest/execd/code-run.ts): runs code in a context of the code interpreter and
//! streams execd's events; with neither a context id nor a language, the code is a shell line run
//! like POST /command (as upstream). The interpreter's NDJSON (E2B's /execute events) is
//! translated event by event.
use std::time::Instant;

use http::Method;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::Execd;
use super::code_interpreter::interpreter_request;
use super::command_run::{RunCommand, start_command};
use super::commands::new_execution_id;
use super::errors::{ExecdError, ExecdResult};
use super::lines::LineSplitter;
use super::request::read_body;
use super::sse::{EventSink, open_event_stream};
use crate::error::Code;
use crate::http::respond::HttpResponse;

/// E2B result fields back to the MIME types execd reports (`text/plain` is execd's `text`).
const MIME_OF: [(&str, &str); 12] = [
    ("text", "text"),
    ("html", "text/html"),
    ("markdown", "text/markdown"),
    ("svg", "image/svg+xml"),
    ("png", "image/png"),
    ("jpeg", "image/jpeg"),
    ("pdf", "application/pdf"),
    ("latex", "text/latex"),
    ("json", "application/json"),
    ("javascript", "application/javascript"),
    ("data", "e2b/data"),
    ("chart", "e2b/chart"),
];

#[derive(Deserialize, Default)]
struct CodeContext {
    id: Option<String>,
    language: Option<String>,
}

#[derive(Deserialize)]
struct RunCode {
    #[serde(default)]
    context: CodeContext,
    code: String,
}

/// One interpreter event as execd's, or None for those execd has no frame for (keepalive, the end).
fn translate(ev: &Value) -> Option<Value> {
    let str_of = |k: &str| ev[k].as_str();
    match str_of("type")? {
        kind @ ("stdout" | "stderr") => Some(json!({ "type": kind, "text": str_of("text").unwrap_or("") })),
        "number_of_executions" => Some(json!({ "type": "execution_count", "execution_count": ev["execution_count"] })),
        "error" => {
            let traceback: Vec<&str> = str_of("traceback").unwrap_or("").split('\n').collect();
            Some(json!({ "type": "error", "error": {
                "ename": str_of("name").unwrap_or("Error"), "evalue": str_of("value").unwrap_or(""), "traceback": traceback,
            } }))
        }
        "result" => {
            let mut results: Map<String, Value> = ev["extra"].as_object().cloned().unwrap_or_default();
            for (field, mime) in MIME_OF {
                if let Some(v) = ev.get(field).filter(|v| !v.is_null()) {
                    results.insert(mime.into(), v.clone());
                }
            }
            Some(json!({ "type": "result", "results": results }))
        }
        _ => None,
    }
}

/// Sends the interpreter's events on as execd's; like a command, a run that raised ends with its
/// error and no execution_complete.
async fn relay(body: Incoming, sink: &EventSink, started: Instant) {
    let mut body = body;
    let mut lines = LineSplitter::default();
    let mut failed = false;
    while let Some(Ok(frame)) = body.frame().await {
        let Ok(data) = frame.into_data() else { continue };
        for line in lines.push(&data).into_iter().filter(|l| !l.trim().is_empty()) {
            let Some(event) = serde_json::from_str::<Value>(&line).ok().as_ref().and_then(translate) else { continue };
            failed |= event["type"] == "error";
            sink.send(event).await;
        }
    }
    if !failed {
        sink.send(json!({ "type": "execution_complete", "execution_time": started.elapsed().as_millis() as u64 })).await;
    }
}

pub async fn run_code(execd: &Execd, body: Incoming) -> ExecdResult<HttpResponse> {
    let body: RunCode = read_body(body).await?;
    let (id, language) = (body.context.id.filter(|i| !i.is_empty()), body.context.language.filter(|l| !l.is_empty()));
    if id.is_none() && language.is_none() {
        if body.code.trim().is_empty() {
            return Err(ExecdError::new(Code::InvalidArgument, "code is empty"));
        }
        return start_command(execd, RunCommand::line(body.code));
    }
    let started = Instant::now();
    let request = match id {
        Some(id) => json!({ "code": body.code, "context_id": id }),
        None => json!({ "code": body.code, "language": language }),
    };
    let res = interpreter_request(execd, Method::POST, "/execute", Some(&request)).await?;
    let (sink, answer) = open_event_stream();
    tokio::spawn(async move {
        sink.send(json!({ "type": "init", "text": new_execution_id() })).await;
        // A client that leaves drops the interpreter's stream with it.
        tokio::select! {
            () = relay(res.into_body(), &sink, started) => {}
            () = sink.closed() => {}
        }
    });
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn translates_the_interpreters_events() {
        assert_eq!(translate(&json!({ "type": "stdout", "text": "hi\n" })), Some(json!({ "type": "stdout", "text": "hi\n" })));
        assert_eq!(
            translate(&json!({ "type": "number_of_executions", "execution_count": 3 })),
            Some(json!({ "type": "execution_count", "execution_count": 3 }))
        );
        assert_eq!(
            translate(&json!({ "type": "error", "name": "ValueError", "value": "bad", "traceback": "a\nb" })),
            Some(json!({ "type": "error", "error": { "ename": "ValueError", "evalue": "bad", "traceback": ["a", "b"] } }))
        );
        assert_eq!(
            translate(&json!({ "type": "result", "text": "2", "png": "iVBOR", "extra": { "x/y": 1 } })),
            Some(json!({ "type": "result", "results": { "x/y": 1, "text": "2", "image/png": "iVBOR" } }))
        );
        assert_eq!(translate(&json!({ "type": "end_of_execution" })), None);
    }
}
