//! SendSignal: SIGTERM or SIGKILL to a running process's group (src/guest/process/send-signal.ts).
use std::time::Duration;

use super::Processes;
use super::selector::selector;
use crate::error::{Code, GuestError, GuestResult};
use crate::proto::process::{SendSignalRequest, Signal};

/// How long a SIGKILL answer waits for the process to be gone.
const KILL_SETTLE: Duration = Duration::from_secs(1);

pub async fn send_signal(processes: &Processes, req: SendSignalRequest) -> GuestResult<()> {
    let signal = match req.signal.as_known() {
        Some(Signal::SIGNAL_SIGKILL) => libc::SIGKILL,
        Some(Signal::SIGNAL_SIGTERM) => libc::SIGTERM,
        _ => return Err(GuestError::new(Code::InvalidArgument, "signal must be SIGNAL_SIGKILL or SIGNAL_SIGTERM")),
    };
    let handle = processes.registry.find_running(&selector(req.process.into())?)?;
    handle.kill(signal);
    // A kill answers once the process is gone, so that the next call (a second kill, a List)
    // already sees it ended: clients treat "not found" after a kill as "already dead".
    if signal == libc::SIGKILL {
        let _ = tokio::time::timeout(KILL_SETTLE, handle.exited()).await;
    }
    Ok(())
}
