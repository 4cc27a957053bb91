//! Start: spawns a process (pipes or PTY) as the request's user and streams its events
//! (src/guest/process/start.ts).
use std::sync::Arc;

use buffa::MessageField;
use connectrpc::{RequestContext, Response, ServiceResult, ServiceStream};
use futures::StreamExt;
use tokio::time::{Instant, sleep_until};

use super::Processes;
use super::events::{keepalive_interval, process_events};
use super::handle::{ProcessHandle, ProcessSpec};
use super::launch::{LaunchRequest, launch};
use super::pty::{DEFAULT_COLS, DEFAULT_ROWS};
use crate::auth::request_user;
use crate::proto::process::{ProcessConfig, StartRequest, StartResponse};

pub async fn start(processes: &Processes, ctx: RequestContext, req: StartRequest) -> ServiceResult<ServiceStream<StartResponse>> {
    let guest = &processes.guest;
    let state = guest.state();
    let authorization = ctx.header(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let user = request_user(guest, &state, authorization)?;
    let (handle, feed) = launch(processes, &state, &user, launch_request(req), &state.env_vars)?;
    kill_at_deadline(&handle, ctx.deadline());
    let events = process_events(handle.pid, feed, keepalive_interval(&ctx), ctx.deadline());
    Response::stream_ok(events.map(|e| e.map(|event| StartResponse { event: MessageField::some(event), ..Default::default() })))
}

fn launch_request(req: StartRequest) -> LaunchRequest {
    let config: ProcessConfig = Option::from(req.process).unwrap_or_default();
    // A size of 0 (absent on the wire) is node-pty's default.
    let dimension = |n: u32, default: u16| if n == 0 { default } else { n.min(u16::MAX.into()) as u16 };
    let pty = req.pty.as_option().map(|pty| {
        let size = pty.size.as_option().cloned().unwrap_or_default();
        (dimension(size.cols, DEFAULT_COLS), dimension(size.rows, DEFAULT_ROWS))
    });
    LaunchRequest {
        spec: ProcessSpec { cmd: config.cmd, args: config.args, envs: config.envs.into_iter().collect(), cwd: config.cwd },
        pty,
        tag: req.tag,
        // Absent means open: clients before envd 0.3.0 expect an open stdin.
        stdin: req.stdin.unwrap_or(true),
    }
}

/// Connect-Timeout-Ms elapsing kills the process; a client that merely disconnects does not.
/// Killed by a task of its own, so the kill happens whether the client is still attached (its
/// stream ends with deadline_exceeded at the same moment) or long gone.
fn kill_at_deadline(handle: &Arc<ProcessHandle>, deadline: Option<std::time::Instant>) {
    let Some(deadline) = deadline else { return };
    let handle = handle.clone();
    tokio::spawn(async move {
        tokio::select! {
            () = sleep_until(Instant::from_std(deadline)) => handle.kill(libc::SIGKILL),
            () = handle.exited() => {}
        }
    });
}
