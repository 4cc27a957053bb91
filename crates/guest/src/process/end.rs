//! How a process ended, worded as envd words it after Go's os.ProcessState: "exit status 3",
//! "signal: killed" (src/guest/process/handle.ts, processEnd; SIGNAL_TEXT in
//! src/api/envd-protocol.ts). The CLI reads the signal back out of these words (signalOfStatus),
//! so they must be exactly the TypeScript guest's.

/// What waitpid said about a child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    Code(i32),
    Signal(i32),
    /// The child was reaped elsewhere, so how it ended is not known.
    Unknown,
}

impl Exit {
    pub fn from_wait_status(status: i32) -> Self {
        if libc::WIFEXITED(status) {
            Exit::Code(libc::WEXITSTATUS(status))
        } else if libc::WIFSIGNALED(status) {
            Exit::Signal(libc::WTERMSIG(status))
        } else {
            Exit::Unknown
        }
    }
}

/// envd's end event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProcessEnd {
    pub exit_code: i32,
    pub exited: bool,
    pub status: String,
    /// The status again when the process failed (non-zero exit or a signal), as envd sends it.
    pub error: Option<String>,
}

impl ProcessEnd {
    pub fn of(exit: Exit) -> Self {
        match exit {
            Exit::Signal(signal) => {
                let status = format!("signal: {}", signal_text(signal));
                Self { exit_code: -1, exited: false, error: Some(status.clone()), status }
            }
            Exit::Code(code) => Self::exit_status(code),
            Exit::Unknown => Self::exit_status(-1),
        }
    }

    fn exit_status(code: i32) -> Self {
        let status = format!("exit status {code}");
        let error = (code != 0).then(|| status.clone());
        Self { exit_code: code, exited: true, status, error }
    }
}

/// Go's words for the signals SIGNAL_TEXT names, else the signal's name (Node's
/// os.constants.signals), else Go's `signal N` for one without a name (real-time signals).
fn signal_text(signal: i32) -> String {
    let text = match signal {
        libc::SIGKILL => "killed",
        libc::SIGTERM => "terminated",
        libc::SIGINT => "interrupt",
        libc::SIGHUP => "hangup",
        libc::SIGQUIT => "quit",
        libc::SIGABRT => "aborted",
        libc::SIGSEGV => "segmentation fault",
        libc::SIGPIPE => "broken pipe",
        libc::SIGALRM => "alarm clock",
        libc::SIGUSR1 => "user defined signal 1",
        libc::SIGUSR2 => "user defined signal 2",
        libc::SIGBUS => "bus error",
        _ => return signal_name(signal).map_or_else(|| format!("signal {signal}"), str::to_string),
    };
    text.to_string()
}

/// Linux's signal names, the first Node lists for each number (SIGABRT over SIGIOT, SIGIO over SIGPOLL).
fn signal_name(signal: i32) -> Option<&'static str> {
    Some(match signal {
        libc::SIGHUP => "SIGHUP",
        libc::SIGINT => "SIGINT",
        libc::SIGQUIT => "SIGQUIT",
        libc::SIGILL => "SIGILL",
        libc::SIGTRAP => "SIGTRAP",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL",
        libc::SIGUSR1 => "SIGUSR1",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGUSR2 => "SIGUSR2",
        libc::SIGPIPE => "SIGPIPE",
        libc::SIGALRM => "SIGALRM",
        libc::SIGTERM => "SIGTERM",
        libc::SIGSTKFLT => "SIGSTKFLT",
        libc::SIGCHLD => "SIGCHLD",
        libc::SIGCONT => "SIGCONT",
        libc::SIGSTOP => "SIGSTOP",
        libc::SIGTSTP => "SIGTSTP",
        libc::SIGTTIN => "SIGTTIN",
        libc::SIGTTOU => "SIGTTOU",
        libc::SIGURG => "SIGURG",
        libc::SIGXCPU => "SIGXCPU",
        libc::SIGXFSZ => "SIGXFSZ",
        libc::SIGVTALRM => "SIGVTALRM",
        libc::SIGPROF => "SIGPROF",
        libc::SIGWINCH => "SIGWINCH",
        libc::SIGIO => "SIGIO",
        libc::SIGPWR => "SIGPWR",
        libc::SIGSYS => "SIGSYS",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn end(exit_code: i32, exited: bool, status: &str, error: Option<&str>) -> ProcessEnd {
        ProcessEnd { exit_code, exited, status: status.into(), error: error.map(str::to_string) }
    }

    #[test]
    fn ends_read_like_envd() {
        assert_eq!(ProcessEnd::of(Exit::Code(0)), end(0, true, "exit status 0", None));
        assert_eq!(ProcessEnd::of(Exit::Code(2)), end(2, true, "exit status 2", Some("exit status 2")));
        assert_eq!(ProcessEnd::of(Exit::Signal(libc::SIGKILL)), end(-1, false, "signal: killed", Some("signal: killed")));
        assert_eq!(ProcessEnd::of(Exit::Signal(libc::SIGTERM)).status, "signal: terminated");
        assert_eq!(ProcessEnd::of(Exit::Signal(libc::SIGWINCH)).status, "signal: SIGWINCH");
        assert_eq!(ProcessEnd::of(Exit::Signal(40)).status, "signal: signal 40");
        assert_eq!(ProcessEnd::of(Exit::Unknown), end(-1, true, "exit status -1", Some("exit status -1")));
    }

    #[test]
    fn wait_statuses_decode() {
        // The kernel's encoding: exit code in bits 8-15, terminating signal in bits 0-6.
        assert_eq!(Exit::from_wait_status(3 << 8), Exit::Code(3));
        assert_eq!(Exit::from_wait_status(libc::SIGKILL), Exit::Signal(libc::SIGKILL));
        assert_eq!(Exit::from_wait_status(libc::SIGSEGV | 0x80), Exit::Signal(libc::SIGSEGV));
    }
}
