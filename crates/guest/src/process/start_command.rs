//! The template's start command (src/guest/start-command.ts): launched once at boot as a guest
//! process (tag `start`, so a client can Connect to it), its output copied line by line to the
//! guest log, never restarted. Its environment is the sandbox-wide one unless the config gives
//! it its own (`start.envVars`). How it stands, with its last lines of output, is what
//! GET /start-command reports (StartCommandStatus in src/api/envd-protocol.ts).
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::Processes;
use super::end::ProcessEnd;
use super::handle::{Feed, HandleEvent, OutputKind, ProcessSpec};
use super::launch::{LaunchRequest, launch};
use crate::auth::resolve_user;
use crate::config::StartConfig;
use crate::log;

pub const START_COMMAND_TAG: &str = "start";

/// Lines of output a report keeps, and characters of each: enough for a stack trace's end.
const TAIL_LINES: usize = 20;
const TAIL_LINE_CHARS: usize = 500;

/// The start command's status; made before the guest serves, so GET /start-command never misses it.
pub struct StartCommandReport {
    status: Mutex<Status>,
}

struct Status {
    state: &'static str,
    end: Option<ProcessEnd>,
    error: Option<String>,
    output: VecDeque<String>,
}

impl StartCommandReport {
    pub fn new() -> Self {
        Self { status: Mutex::new(Status { state: "launching", end: None, error: None, output: VecDeque::new() }) }
    }

    /// GET /start-command's body.
    pub fn view(&self) -> Value {
        let status = self.status.lock().unwrap();
        let mut view = json!({ "state": status.state, "output": status.output });
        if let Some(end) = &status.end {
            view["end"] = json!({ "exitCode": end.exit_code, "exited": end.exited, "status": end.status });
        }
        if let Some(error) = &status.error {
            view["error"] = json!(error);
        }
        view
    }

    fn line(&self, text: &str) {
        let line = match text.char_indices().nth(TAIL_LINE_CHARS) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text.to_string(),
        };
        let mut status = self.status.lock().unwrap();
        status.output.push_back(line);
        if status.output.len() > TAIL_LINES {
            status.output.pop_front();
        }
    }

    fn running(&self) {
        self.status.lock().unwrap().state = "running";
    }

    fn ended(&self, end: ProcessEnd) {
        let mut status = self.status.lock().unwrap();
        status.state = "ended";
        status.end = Some(end);
    }

    fn failed(&self, error: String) {
        let mut status = self.status.lock().unwrap();
        status.state = "failed";
        status.error = Some(error);
    }
}

/// Launches the start command; a failure to launch is logged and reported, never returned.
pub fn run(processes: &Processes, start: &StartConfig) {
    let Some(report) = processes.start_command.clone() else { return };
    let state = processes.guest.state();
    let launched = resolve_user(&processes.guest, &state, start.user.as_deref()).and_then(|user| {
        let req = LaunchRequest {
            spec: ProcessSpec {
                cmd: start.cmd.first().cloned().unwrap_or_default(),
                args: start.cmd.iter().skip(1).cloned().collect(),
                envs: start.env.clone().unwrap_or_default(),
                cwd: start.cwd.clone(),
            },
            pty: None,
            tag: Some(START_COMMAND_TAG.into()),
            stdin: false,
        };
        launch(processes, &state, &user, req, start.env_vars.as_ref().unwrap_or(&state.env_vars))
    });
    let (handle, feed) = match launched {
        Ok(launched) => launched,
        Err(err) => {
            log::error("start command failed to launch", json!({ "error": err.message }));
            report.failed(err.message);
            return;
        }
    };
    report.running();
    match feed {
        Feed::Live(events) => {
            tokio::spawn(follow(events, report));
        }
        Feed::Ended(end) => report.ended(end),
    }
    log::info("start command launched", json!({ "pid": handle.pid, "cmd": start.cmd }));
}

/// Copies the start command's output to the log and the report, a line at a time per stream.
async fn follow(mut events: mpsc::Receiver<HandleEvent>, report: Arc<StartCommandReport>) {
    const KINDS: [(OutputKind, &str); 3] = [(OutputKind::Stdout, "stdout"), (OutputKind::Stderr, "stderr"), (OutputKind::Pty, "pty")];
    let mut partial: [Vec<u8>; 3] = Default::default();
    let emit = |line: &[u8], name: &str| {
        let line = String::from_utf8_lossy(line);
        log::info(&line, json!({ "source": format!("start:{name}") }));
        report.line(&line);
    };
    while let Some(event) = events.recv().await {
        match event {
            HandleEvent::Data(kind, data) => {
                let i = KINDS.iter().position(|(k, _)| *k == kind).expect("every kind is listed");
                partial[i].extend_from_slice(&data);
                if let Some(last) = partial[i].iter().rposition(|b| *b == b'\n') {
                    let rest = partial[i].split_off(last + 1);
                    let complete = std::mem::replace(&mut partial[i], rest);
                    for line in complete[..last].split(|b| *b == b'\n') {
                        emit(line, KINDS[i].1);
                    }
                }
            }
            HandleEvent::End(end) => {
                // A last line without its newline is output too (a crash's message often is one).
                for (buf, (_, name)) in partial.iter().zip(KINDS) {
                    if !buf.is_empty() {
                        emit(buf, name);
                    }
                }
                let mut fields = json!({ "exitCode": end.exit_code, "exited": end.exited, "status": end.status });
                if let Some(error) = &end.error {
                    fields["error"] = json!(error);
                }
                log::info("start command ended", fields);
                report.ended(end);
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::end::Exit;

    #[test]
    fn report_keeps_the_last_lines_and_says_how_it_stands() {
        let report = StartCommandReport::new();
        assert_eq!(report.view(), json!({ "state": "launching", "output": [] }));
        for n in 0..25 {
            report.line(&n.to_string());
        }
        report.line(&"é".repeat(TAIL_LINE_CHARS + 1));
        report.running();
        let view = report.view();
        assert_eq!(view["state"], "running");
        let output = view["output"].as_array().unwrap();
        assert_eq!((output.len(), output[0].as_str()), (TAIL_LINES, Some("6")));
        assert_eq!(output[TAIL_LINES - 1].as_str().unwrap(), format!("{}…", "é".repeat(TAIL_LINE_CHARS)));
        report.ended(ProcessEnd::of(Exit::Code(5)));
        assert_eq!(report.view()["end"], json!({ "exitCode": 5, "exited": true, "status": "exit status 5" }));
        let failed = StartCommandReport::new();
        failed.failed("cannot start 'x'".into());
        assert_eq!(failed.view(), json!({ "state": "failed", "output": [], "error": "cannot start 'x'" }));
    }
}
