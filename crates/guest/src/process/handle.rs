//! One process started through the guest, whatever drives it (pipes or a PTY): fans its output
//! out to every attached stream, takes its input, and remembers how it ended
//! (src/guest/process/handle.ts). The driver (driver.rs) feeds it.
use std::collections::BTreeMap;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Mutex, Weak};

use bytes::Bytes;
use tokio::io::unix::AsyncFd;
use tokio::sync::{mpsc, watch};

use super::end::ProcessEnd;
use super::pty;
use crate::error::{Code, GuestError, GuestResult};

/// Frames a subscriber may have queued before the process's output is held back: a client that
/// reads slowly slows the process down instead of filling the guest's memory.
const SUBSCRIBER_QUEUE: usize = 64;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutputKind {
    Stdout,
    Stderr,
    Pty,
}

#[derive(Debug, Clone)]
pub enum HandleEvent {
    Data(OutputKind, Bytes),
    End(ProcessEnd),
}

/// The process as it was asked for, which List reports back.
pub struct ProcessSpec {
    pub cmd: String,
    pub args: Vec<String>,
    pub envs: BTreeMap<String, String>,
    pub cwd: Option<String>,
}

/// What an attaching stream receives: the end of a process already gone, or its live events.
pub enum Feed {
    Ended(ProcessEnd),
    Live(mpsc::Receiver<HandleEvent>),
}

pub struct ProcessHandle {
    pub pid: i32,
    pub spec: ProcessSpec,
    pub tag: Option<String>,
    /// The PTY's master for a PTY process; weak, so the descriptor closes with the process's
    /// driver and input, not with the handle the registry keeps after the end.
    terminal: Option<Weak<AsyncFd<OwnedFd>>>,
    state: Mutex<State>,
    exited: watch::Sender<bool>,
}

struct State {
    end: Option<ProcessEnd>,
    subscribers: Vec<mpsc::Sender<HandleEvent>>,
    /// The queue to the task writing the process's input; None once stdin is closed (or was never open).
    input: Option<mpsc::UnboundedSender<Bytes>>,
}

impl ProcessHandle {
    pub fn new(
        pid: i32,
        spec: ProcessSpec,
        tag: Option<String>,
        terminal: Option<Weak<AsyncFd<OwnedFd>>>,
        input: Option<mpsc::UnboundedSender<Bytes>>,
    ) -> Self {
        let state = State { end: None, subscribers: Vec::new(), input };
        Self { pid, spec, tag, terminal, state: Mutex::new(state), exited: watch::Sender::new(false) }
    }

    pub fn is_pty(&self) -> bool {
        self.terminal.is_some()
    }

    pub fn end(&self) -> Option<ProcessEnd> {
        self.state.lock().unwrap().end.clone()
    }

    /// Every later event, or the end when there will be none; decided under one lock with
    /// `finish`, so an attach never misses the end.
    pub fn subscribe(&self) -> Feed {
        let mut state = self.state.lock().unwrap();
        if let Some(end) = &state.end {
            return Feed::Ended(end.clone());
        }
        let (tx, rx) = mpsc::channel(SUBSCRIBER_QUEUE);
        state.subscribers.push(tx);
        Feed::Live(rx)
    }

    /// Returns once the process has ended (and its output drained).
    pub async fn exited(&self) {
        let _ = self.exited.subscribe().wait_for(|ended| *ended).await;
    }

    /// Queues bytes for the process's stdin, or its terminal. Like Node's stream writes, this
    /// returns at once; the bytes are written in order, and dropped if the process stops reading
    /// for good (EPIPE).
    pub fn write_input(&self, data: Bytes) -> GuestResult<()> {
        if data.is_empty() {
            return Ok(());
        }
        match &self.state.lock().unwrap().input {
            Some(input) => {
                let _ = input.send(data);
                Ok(())
            }
            None => Err(GuestError::new(Code::Conflict, format!("stdin of process {} is closed; start it with stdin: true", self.pid))),
        }
    }

    /// EOF on stdin once what was queued is written. Refused for a PTY, whose EOF is a byte.
    pub fn close_stdin(&self) -> GuestResult<()> {
        if self.is_pty() {
            return Err(GuestError::new(
                Code::InvalidArgument,
                format!("process {} runs on a PTY; send EOF (\\x04) as PTY input instead of CloseStdin", self.pid),
            ));
        }
        self.state.lock().unwrap().input = None;
        Ok(())
    }

    /// Resizes a PTY process's terminal; a terminal already closed (the process is ending) is left be.
    pub fn resize(&self, cols: u16, rows: u16) -> GuestResult<()> {
        let Some(master) = self.terminal.as_ref().and_then(Weak::upgrade) else { return Ok(()) };
        pty::resize(master.get_ref().as_raw_fd(), cols, rows)
            .map_err(|e| GuestError::new(Code::Internal, format!("cannot resize the PTY of process {}: {e}", self.pid)))
    }

    /// Signals the process's whole group: every process starts as a session leader (pgid = pid).
    pub fn kill(&self, signal: i32) {
        // SAFETY: kill has no memory preconditions.
        unsafe {
            // Not a group leader any more (it called setsid itself): signal the process alone.
            if libc::kill(-self.pid, signal) != 0 {
                libc::kill(self.pid, signal);
            }
        }
    }

    /// From the driver: one chunk of output to every subscriber, waiting for room in their queues.
    pub(super) async fn emit(&self, kind: OutputKind, data: Bytes) {
        let subscribers = self.state.lock().unwrap().subscribers.clone();
        let mut gone = false;
        for subscriber in subscribers {
            gone |= subscriber.send(HandleEvent::Data(kind, data.clone())).await.is_err();
        }
        if gone {
            self.state.lock().unwrap().subscribers.retain(|s| !s.is_closed());
        }
    }

    /// From the driver, once: records the end, closes the input, wakes `exited` waiters and
    /// returns the subscribers, to whom the driver sends the end.
    pub(super) fn finish(&self, end: ProcessEnd) -> Vec<mpsc::Sender<HandleEvent>> {
        let subscribers = {
            let mut state = self.state.lock().unwrap();
            state.end = Some(end);
            state.input = None;
            std::mem::take(&mut state.subscribers)
        };
        self.exited.send_replace(true);
        subscribers
    }
}
