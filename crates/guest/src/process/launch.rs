//! Starts a process for Start and for the start command (src/guest/process/start.ts, launch):
//! validates the request, resolves its cwd and env, makes its stdio, spawns it, registers it
//! and starts the tasks that drive it.
use std::collections::BTreeMap;
use std::io;
use std::sync::Arc;

use tokio::io::Interest;
use tokio::sync::mpsc;

use super::Processes;
use super::driver::{Output, drive, feed_input};
use super::env::{add_terminal_env, process_cwd, process_env};
use super::fd::{async_fd, pipe};
use super::handle::{Feed, ProcessHandle, ProcessSpec};
use super::pty;
use super::spawn::{ChildStdio, Program, spawn, start_error};
use crate::context::GuestState;
use crate::error::{Code, GuestError, GuestResult};
use crate::users::OsUser;

pub struct LaunchRequest {
    pub spec: ProcessSpec,
    /// A PTY's (cols, rows); None runs the process on pipes.
    pub pty: Option<(u16, u16)>,
    pub tag: Option<String>,
    /// Whether a pipe process's stdin stays open for input (else it reads /dev/null).
    pub stdin: bool,
}

/// Starts the request's process as `user`; `sandbox_env` is the sandbox-wide env (the start
/// command may have its own). Returns its handle and a feed of all its events from the start,
/// subscribed before the driver runs, so no output can be missed.
pub fn launch(
    processes: &Processes,
    state: &GuestState,
    user: &OsUser,
    req: LaunchRequest,
    sandbox_env: &BTreeMap<String, String>,
) -> GuestResult<(Arc<ProcessHandle>, Feed)> {
    let cmd = req.spec.cmd.as_str();
    if cmd.is_empty() {
        return Err(GuestError::new(Code::InvalidArgument, "process.cmd is required"));
    }
    let cwd = process_cwd(state, user, req.spec.cwd.as_deref())?;
    let mut env = process_env(sandbox_env, user, &req.spec.envs);
    let failed = |what: &'static str| move |e: io::Error| start_error(cmd, e.raw_os_error().unwrap_or(libc::EIO), what);
    let (pid, output, input, terminal) = match req.pty {
        Some((cols, rows)) => {
            add_terminal_env(&mut env, &cwd);
            let pty = pty::open(cols, rows).map_err(failed("openpty"))?;
            let master = Arc::new(async_fd(pty.master, Interest::READABLE | Interest::WRITABLE).map_err(failed("openpty"))?);
            let program = Program { cmd, args: &req.spec.args, env: &env, cwd: &cwd, uid: user.uid, gid: user.gid };
            let pid = spawn(&program, ChildStdio::Terminal(&pty.slave))?;
            // The slave is the program's alone now: once it and its children are gone, reading
            // the master ends (EIO).
            drop(pty.slave);
            let terminal = Arc::downgrade(&master);
            (pid, Output::Pty(master.clone()), Some(master), Some(terminal))
        }
        None => {
            let stdin = if req.stdin { Some(pipe().map_err(failed("pipe"))?) } else { None };
            let (stdout_r, stdout_w) = pipe().map_err(failed("pipe"))?;
            let (stderr_r, stderr_w) = pipe().map_err(failed("pipe"))?;
            let (stdin_r, stdin_w) = stdin.unzip();
            let stdin_w = stdin_w.map(|w| async_fd(w, Interest::WRITABLE).map(Arc::new)).transpose().map_err(failed("pipe"))?;
            let stdout = async_fd(stdout_r, Interest::READABLE).map_err(failed("pipe"))?;
            let stderr = async_fd(stderr_r, Interest::READABLE).map_err(failed("pipe"))?;
            let program = Program { cmd, args: &req.spec.args, env: &env, cwd: &cwd, uid: user.uid, gid: user.gid };
            let stdio = ChildStdio::Pipes { stdin: stdin_r.as_ref(), stdout: &stdout_w, stderr: &stderr_w };
            let pid = spawn(&program, stdio)?;
            // The child's ends, closed here, or the pipes would never reach their end.
            drop((stdin_r, stdout_w, stderr_w));
            (pid, Output::Pipes { stdout, stderr }, stdin_w, None)
        }
    };
    let exit = processes.reaper.watch(pid);
    let queue = input.map(|fd| {
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(feed_input(fd, rx));
        tx
    });
    let handle = Arc::new(ProcessHandle::new(pid, req.spec, req.tag, terminal, queue));
    let feed = handle.subscribe();
    processes.registry.add(handle.clone());
    tokio::spawn(drive(handle.clone(), output, exit, processes.registry.clone()));
    Ok((handle, feed))
}
