//! CloseStdin: EOF on a non-PTY process's stdin (src/guest/process/close-stdin.ts).
use super::Processes;
use super::selector::selector;
use crate::error::GuestResult;
use crate::proto::process::CloseStdinRequest;

pub fn close_stdin(processes: &Processes, req: CloseStdinRequest) -> GuestResult<()> {
    processes.registry.find_running(&selector(req.process.into())?)?.close_stdin()
}
