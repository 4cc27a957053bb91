//! One PTY session of execd (src/guest/execd/pty-session.ts, upstream `components/execd/PTY.md`):
//! a shell that outlives its WebSocket clients. POST /pty only records it; the first client
//! starts the process, on a pseudo-terminal (`pty=1`, the default) or on pipes with stdout and
//! stderr apart (`pty=0`). Output goes to the one attached client and into a bounded history
//! (pty_output.rs) that a reconnecting client replays with `since=`.
//!
//! Flow control: output reaches the client through a bounded queue that the pump awaits, so a
//! client that stops reading holds the process's output (the process service's subscriber
//! queue fills and its driver stops reading) until it reads again; a client that leaves or is
//! taken over ends the hold, its queue being dropped.
use std::sync::{Arc, Mutex};

use bytes::{BufMut, Bytes, BytesMut};
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::tungstenite::Message;

use super::Execd;
use super::errors::ExecdResult;
use super::pty_output::{PTY_REPLAY_BYTES, PtyOutput};
use super::shell::{ShellLaunch, launch_shell};
use crate::process::handle::{Feed, HandleEvent, OutputKind, ProcessHandle};
use crate::users::OsUser;

/// First byte of every binary frame: which stream it carries.
pub const CHANNEL_STDIN: u8 = 0x00;
const CHANNEL_STDOUT: u8 = 0x01;
const CHANNEL_STDERR: u8 = 0x02;
pub const CHANNEL_REPLAY: u8 = 0x03;

/// The terminal size a session starts with, as node-pty's default.
const SIZE: (u16, u16) = (80, 24);

/// A close the session asks of its client's socket: code and reason.
pub type CloseRequest = (u16, &'static str);

/// The attached client: its frame queue and a way to close it.
pub struct Client {
    pub id: u64,
    pub frames: mpsc::Sender<Message>,
    pub close: oneshot::Sender<CloseRequest>,
}

pub struct PtySession {
    pub id: String,
    user: OsUser,
    cwd: Option<String>,
    /// A shell line to run instead of an interactive shell.
    command: Option<String>,
    pub state: Mutex<PtyState>,
}

pub struct PtyState {
    pub handle: Option<Arc<ProcessHandle>>,
    pub output: PtyOutput,
    /// The exit code once the pump has seen the end: a client attaching later is told itself.
    pub exit_code: Option<i32>,
    pub client: Option<Client>,
    next_client: u64,
}

pub fn exit_frame(code: i32) -> Message {
    Message::text(json!({ "type": "exit", "exit_code": code }).to_string())
}

impl PtyState {
    pub fn next_client_id(&mut self) -> u64 {
        self.next_client += 1;
        self.next_client
    }
}

impl PtySession {
    pub fn new(id: String, user: OsUser, cwd: Option<String>, command: Option<String>) -> Self {
        let state = PtyState { handle: None, output: PtyOutput::new(PTY_REPLAY_BYTES), exit_code: None, client: None, next_client: 0 };
        Self { id, user, cwd, command, state: Mutex::new(state) }
    }

    pub fn running(&self) -> bool {
        self.state.lock().unwrap().handle.as_ref().is_some_and(|h| h.end().is_none())
    }

    /// Starts the process once; later calls (a reconnect) find it started and keep its mode.
    pub fn start(self: &Arc<Self>, execd: &Execd, on_terminal: bool) -> ExecdResult<Arc<ProcessHandle>> {
        let mut state = self.state.lock().unwrap();
        if let Some(handle) = &state.handle {
            return Ok(handle.clone());
        }
        let launch = ShellLaunch {
            args: self.command.iter().flat_map(|c| ["-c".to_string(), c.clone()]).collect(),
            user: self.user.clone(),
            cwd: self.cwd.clone(),
            envs: Default::default(),
            stdin: true,
            pty: on_terminal.then_some(SIZE),
            tag: format!("pty-{}", self.id),
        };
        let (handle, feed) = launch_shell(execd, launch)?;
        state.handle = Some(handle.clone());
        tokio::spawn(self.clone().pump(feed));
        Ok(handle)
    }

    /// Keeps the output and passes it to the attached client; tells the client the end.
    async fn pump(self: Arc<Self>, feed: Feed) {
        let mut rx = match feed {
            Feed::Live(rx) => rx,
            Feed::Ended(end) => return self.ended(end.exit_code).await,
        };
        while let Some(event) = rx.recv().await {
            match event {
                HandleEvent::Data(kind, data) => {
                    let channel = if kind == OutputKind::Stderr { CHANNEL_STDERR } else { CHANNEL_STDOUT };
                    let mut frame = BytesMut::with_capacity(data.len() + 1);
                    frame.put_u8(channel);
                    frame.put_slice(&data);
                    let client = {
                        let mut state = self.state.lock().unwrap();
                        state.output.append(data);
                        state.client.as_ref().map(|c| c.frames.clone())
                    };
                    if let Some(client) = client {
                        let _ = client.send(Message::binary(frame.freeze())).await;
                    }
                }
                HandleEvent::End(end) => return self.ended(end.exit_code).await,
            }
        }
    }

    async fn ended(&self, code: i32) {
        let client = {
            let mut state = self.state.lock().unwrap();
            state.exit_code = Some(code);
            state.client.as_ref().map(|c| c.frames.clone())
        };
        if let Some(client) = client {
            let _ = client.send(exit_frame(code)).await;
            let _ = client.send(Message::Close(Some(close_frame((1000, "exited"))))).await;
        }
    }

    /// Sends `signal` to the process: on a terminal to its foreground job, as Ctrl-C would.
    pub fn signal(&self, signal: i32) {
        let Some(handle) = self.state.lock().unwrap().handle.clone().filter(|h| h.end().is_none()) else { return };
        let group = if handle.is_pty() { foreground_group(handle.pid) } else { None };
        match group {
            // SAFETY: kill has no memory preconditions.
            Some(group) => unsafe {
                libc::kill(-group, signal);
            },
            None => handle.kill(signal),
        }
    }

    /// Ends the process and its client (DELETE /pty/{id}).
    pub fn close(&self) {
        let mut state = self.state.lock().unwrap();
        if let Some(handle) = state.handle.as_ref().filter(|h| h.end().is_none()) {
            handle.kill(libc::SIGKILL);
        }
        if let Some(client) = state.client.take() {
            let _ = client.close.send((1000, "deleted"));
        }
    }
}

pub fn close_frame((code, reason): CloseRequest) -> tokio_tungstenite::tungstenite::protocol::CloseFrame {
    tokio_tungstenite::tungstenite::protocol::CloseFrame { code: code.into(), reason: reason.into() }
}

/// The terminal's foreground process group of `pid` (`tpgid`, field 8 of /proc/<pid>/stat): bash
/// ignores SIGINT while it waits for a job and puts each job in its own group. None when it has
/// none or is gone.
fn foreground_group(pid: i32) -> Option<i32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces and parentheses: the fields start after its last ')'.
    let fields = &stat[stat.rfind(')')? + 1..];
    let tpgid: i32 = fields.split_whitespace().nth(5)?.parse().ok()?;
    (tpgid > 0).then_some(tpgid)
}

/// Builds the replay frame: channel 0x03, the 8-byte big-endian offset of its first byte, the bytes.
pub fn replay_frame(offset: u64, data: &[u8]) -> Bytes {
    let mut frame = BytesMut::with_capacity(9 + data.len());
    frame.put_u8(CHANNEL_REPLAY);
    frame.put_u64(offset);
    frame.put_slice(data);
    frame.freeze()
}
