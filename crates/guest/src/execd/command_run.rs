//! POST /command (src/guest/execd/command-run.ts): runs a shell line. Foreground: streams
//! `init`, its output line by line and how it ended; the process is killed when the client
//! leaves or `timeout` passes. Background: `init` then `execution_complete` at once; the output
//! goes to the command's log (GET /command/{id}/logs) and its end to GET /command/status/{id}.
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::json;

use super::Execd;
use super::commands::new_execution_id;
use super::errors::{ExecdError, ExecdResult};
use super::execution::{kill_after, stream_execution};
use super::request::{at_least, read_body};
use super::shell::{ShellLaunch, command_user, launch_shell};
use super::sse::open_event_stream;
use crate::error::Code;
use crate::http::respond::HttpResponse;

#[derive(Deserialize)]
pub struct RunCommand {
    command: String,
    cwd: Option<String>,
    #[serde(default)]
    background: bool,
    /// Milliseconds; the process group is killed when it passes.
    timeout: Option<i64>,
    uid: Option<i64>,
    gid: Option<i64>,
    #[serde(default)]
    envs: BTreeMap<String, String>,
}

/// A uid or gid: a non-negative integer that fits one.
fn id(name: &str, value: Option<i64>) -> ExecdResult<Option<u32>> {
    at_least(name, value, 0)?
        .map(|v| u32::try_from(v).map_err(|_| ExecdError::new(Code::InvalidArgument, format!("invalid request body: {name}: too large"))))
        .transpose()
}

impl RunCommand {
    /// A plain shell line with every option at its default (POST /code without a language).
    pub fn line(command: String) -> Self {
        Self { command, cwd: None, background: false, timeout: None, uid: None, gid: None, envs: BTreeMap::new() }
    }
}

pub async fn run_command(execd: &Execd, body: Incoming) -> ExecdResult<HttpResponse> {
    start_command(execd, read_body(body).await?)
}

/// Runs a checked command request (POST /command, and POST /code without a language).
pub fn start_command(execd: &Execd, body: RunCommand) -> ExecdResult<HttpResponse> {
    if body.command.is_empty() {
        return Err(ExecdError::new(Code::InvalidArgument, "invalid request body: command: must not be empty"));
    }
    let timeout = at_least("timeout", body.timeout, 1)?.map(|ms| Duration::from_millis(ms as u64));
    let user = command_user(execd, id("uid", body.uid)?, id("gid", body.gid)?)?;
    let id = new_execution_id();
    let started = Instant::now();
    let launch = ShellLaunch {
        args: vec!["-c".into(), body.command.clone()],
        user,
        cwd: body.cwd,
        envs: body.envs,
        stdin: false,
        pty: None,
        tag: id.clone(),
    };
    let (handle, feed) = launch_shell(execd, launch)?;
    let (log_feed, stream_feed) = if body.background { (Some(feed), None) } else { (None, Some(feed)) };
    execd.commands.add(&id, &body.command, handle.clone(), log_feed);
    kill_after(&handle, timeout);
    let (sink, res) = open_event_stream();
    tokio::spawn(async move {
        sink.send(json!({ "type": "init", "text": id })).await;
        let Some(feed) = stream_feed else {
            return sink.send(json!({ "type": "execution_complete", "execution_time": started.elapsed().as_millis() as u64 })).await;
        };
        tokio::select! {
            () = stream_execution(feed, &sink, started) => {}
            () = sink.closed() => handle.kill(libc::SIGKILL),
        }
    });
    Ok(res)
}
