//! Streams one process's run as execd events (src/guest/execd/execution.ts): line-split
//! stdout/stderr, then `execution_complete` for exit 0 or `error{ename: CommandExecError,
//! evalue: exit code}` for anything else (a kill reads as -1, as the SDKs expect), never both.
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::json;

use super::lines::LineSplitter;
use super::sse::EventSink;
use crate::process::end::ProcessEnd;
use crate::process::handle::{Feed, HandleEvent, OutputKind, ProcessHandle};

pub async fn end_events(sink: &EventSink, end: &ProcessEnd, started: Instant) {
    let event = if end.exit_code == 0 {
        json!({ "type": "execution_complete", "execution_time": started.elapsed().as_millis() as u64 })
    } else {
        json!({ "type": "error", "error": { "ename": "CommandExecError", "evalue": end.exit_code.to_string(), "traceback": [end.status] } })
    };
    sink.send(event).await;
}

/// Sends each line to `sink` as an event of `kind` ("stdout" or "stderr").
pub async fn send_lines(sink: &EventSink, kind: &str, lines: impl IntoIterator<Item = String>) {
    for text in lines {
        sink.send(json!({ "type": kind, "text": text })).await;
    }
}

/// Sends the output and end of the process `feed` follows; returns when it ended.
pub async fn stream_execution(feed: Feed, sink: &EventSink, started: Instant) {
    let mut rx = match feed {
        Feed::Ended(end) => return end_events(sink, &end, started).await,
        Feed::Live(rx) => rx,
    };
    let (mut out, mut err) = (LineSplitter::default(), LineSplitter::default());
    while let Some(event) = rx.recv().await {
        match event {
            HandleEvent::Data(OutputKind::Stderr, data) => send_lines(sink, "stderr", err.push(&data)).await,
            HandleEvent::Data(_, data) => send_lines(sink, "stdout", out.push(&data)).await,
            HandleEvent::End(end) => {
                send_lines(sink, "stdout", out.flush()).await;
                send_lines(sink, "stderr", err.flush()).await;
                return end_events(sink, &end, started).await;
            }
        }
    }
}

/// Kills the process group after `timeout` (execd's `timeout`), unless it ended first.
pub fn kill_after(handle: &Arc<ProcessHandle>, timeout: Option<Duration>) {
    let Some(timeout) = timeout else { return };
    let handle = handle.clone();
    tokio::spawn(async move {
        tokio::select! {
            () = tokio::time::sleep(timeout) => handle.kill(libc::SIGKILL),
            () = handle.exited() => {}
        }
    });
}
