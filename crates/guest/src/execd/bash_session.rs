//! A persistent bash for execd's /session API (src/guest/execd/bash-session.ts): one bash reads
//! command lines from its stdin, so the working directory, variables and functions persist
//! between runs. Each run ends with a marker line carrying `$?` on stdout and a marker on
//! stderr; output before the markers belongs to the run. Runs are serialised: a second one
//! waits for the first (tokio's Mutex queues its waiters in order).
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use serde_json::json;
use tokio::sync::{Mutex, OwnedMutexGuard};

use super::commands::new_execution_id;
use super::errors::{ExecdError, ExecdResult};
use super::execution::{end_events, send_lines};
use super::lines::LineSplitter;
use super::sse::EventSink;
use crate::error::Code;
use crate::process::end::ProcessEnd;
use crate::process::handle::{Feed, HandleEvent, OutputKind, ProcessHandle};

pub struct SessionRun {
    pub command: String,
    pub cwd: Option<String>,
    pub timeout: Option<Duration>,
}

pub struct BashSession {
    id: String,
    bash: Arc<ProcessHandle>,
    turn: Arc<Mutex<()>>,
}

/// Single quotes for bash, so a cwd is never read as code.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// The run's own part of a stdout line and its exit code, when the line ends with `<mark> <$?>`.
fn exit_marker<'a>(line: &'a str, mark: &str) -> Option<(&'a str, i32)> {
    let at = line.rfind(mark)?;
    let code = line[at + mark.len()..].strip_prefix(' ')?;
    if code.is_empty() || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((&line[..at], code.parse().ok()?))
}

/// What one run has seen of its markers.
struct RunState<'a> {
    sink: &'a EventSink,
    mark: String,
    exit_code: Option<i32>,
    stderr_done: bool,
}

impl RunState<'_> {
    async fn stdout(&mut self, lines: impl IntoIterator<Item = String>) {
        for line in lines {
            match exit_marker(&line, &self.mark) {
                Some((before, code)) => {
                    if !before.is_empty() {
                        send_lines(self.sink, "stdout", [before.to_string()]).await;
                    }
                    self.exit_code = Some(code);
                }
                None => send_lines(self.sink, "stdout", [line]).await,
            }
        }
    }

    async fn stderr(&mut self, lines: impl IntoIterator<Item = String>) {
        for line in lines {
            match line.strip_suffix(self.mark.as_str()) {
                Some(before) => {
                    if !before.is_empty() {
                        send_lines(self.sink, "stderr", [before.to_string()]).await;
                    }
                    self.stderr_done = true;
                }
                None => send_lines(self.sink, "stderr", [line]).await,
            }
        }
    }
}

impl BashSession {
    pub fn new(id: String, bash: Arc<ProcessHandle>) -> Self {
        Self { id, bash, turn: Arc::default() }
    }

    pub fn close(&self) {
        if self.bash.end().is_none() {
            self.bash.kill(libc::SIGKILL);
        }
    }

    /// Waits for the runs queued before; refused when the session's bash has ended meanwhile.
    pub async fn wait_turn(&self) -> ExecdResult<OwnedMutexGuard<()>> {
        let turn = self.turn.clone().lock_owned().await;
        match self.bash.end() {
            Some(end) => Err(ExecdError::new(Code::Conflict, format!("session '{}' has ended ({}); create a new one", self.id, end.status))),
            None => Ok(turn),
        }
    }

    /// Streams the run's output and end to `sink`; holds `turn` until the run ended.
    pub async fn run(&self, _turn: OwnedMutexGuard<()>, r: SessionRun, sink: EventSink) {
        let started = Instant::now();
        let mut random = [0u8; 8];
        getrandom::fill(&mut random).expect("the OS's random source");
        let mark = format!("__execd_{}", random.iter().map(|b| format!("{b:02x}")).collect::<String>());
        let mut rx = match self.bash.subscribe() {
            Feed::Live(rx) => rx,
            Feed::Ended(end) => return end_events(&sink, &end, started).await,
        };
        sink.send(json!({ "type": "init", "text": new_execution_id() })).await;
        let cd = r.cwd.map(|cwd| format!("cd -- {} && ", quote(&cwd))).unwrap_or_default();
        let script = format!(
            "{cd}{{ {}\n}}; __execd_rc=$?; printf '%s %d\\n' {mark} \"$__execd_rc\"; printf '%s\\n' {mark} >&2\n",
            r.command
        );
        // The bash ended just now: its end arrives on the feed below.
        let _ = self.bash.write_input(Bytes::from(script));
        let mut state = RunState { sink: &sink, mark, exit_code: None, stderr_done: false };
        let (mut out, mut err) = (LineSplitter::default(), LineSplitter::default());
        let timeout = tokio::time::sleep(r.timeout.unwrap_or(Duration::MAX));
        tokio::pin!(timeout);
        let mut killed = false;
        loop {
            tokio::select! {
                event = rx.recv() => match event {
                    Some(HandleEvent::Data(OutputKind::Stderr, data)) => state.stderr(err.push(&data)).await,
                    Some(HandleEvent::Data(_, data)) => state.stdout(out.push(&data)).await,
                    // `exit` in the command, a timeout or a client that left ends the session's bash itself.
                    Some(HandleEvent::End(end)) => {
                        state.stdout(out.flush()).await;
                        state.stderr(err.flush()).await;
                        return end_events(&sink, &end, started).await;
                    }
                    None => return,
                },
                // A run that outlives its timeout (or a client that left) ends the session: bash
                // cannot be interrupted in the middle of a line it reads from a pipe without losing its state.
                () = &mut timeout, if r.timeout.is_some() && !killed => { killed = true; self.close() }
                () = sink.closed(), if !killed => { killed = true; self.close() }
            }
            if let (Some(code), true) = (state.exit_code, state.stderr_done) {
                let status = format!("exit status {code}");
                return end_events(&sink, &ProcessEnd { exit_code: code, exited: true, error: None, status }, started).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_exit_marker_at_the_end_of_a_line() {
        assert_eq!(exit_marker("__m 0", "__m"), Some(("", 0)));
        assert_eq!(exit_marker("tail__m 12", "__m"), Some(("tail", 12)));
        assert_eq!(exit_marker("__m 1x", "__m"), None);
        assert_eq!(exit_marker("__m ", "__m"), None);
        assert_eq!(exit_marker("plain", "__m"), None);
    }

    #[test]
    fn quotes_for_bash() {
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
