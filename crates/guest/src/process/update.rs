//! Update: resizes a PTY process's terminal (src/guest/process/update.ts).
use super::Processes;
use super::selector::selector;
use crate::error::{Code, GuestError, GuestResult};
use crate::proto::process::UpdateRequest;

pub fn update(processes: &Processes, req: UpdateRequest) -> GuestResult<()> {
    let handle = processes.registry.find_running(&selector(req.process.into())?)?;
    let Some(size) = req.pty.as_option().and_then(|pty| pty.size.as_option()) else { return Ok(()) };
    if !handle.is_pty() {
        return Err(GuestError::new(Code::InvalidArgument, format!("process {} has no PTY to resize; start it with pty", handle.pid)));
    }
    if size.cols < 1 || size.rows < 1 {
        return Err(GuestError::new(Code::InvalidArgument, "pty size needs cols ≥ 1 and rows ≥ 1"));
    }
    let clamp = |n: u32| n.min(u16::MAX.into()) as u16;
    handle.resize(clamp(size.cols), clamp(size.rows))
}
