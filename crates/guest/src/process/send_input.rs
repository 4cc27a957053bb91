//! SendInput: stdin or PTY bytes to a running process (src/guest/process/send-input.ts).
use super::Processes;
use super::input::write_input;
use super::selector::selector;
use crate::error::GuestResult;
use crate::proto::process::SendInputRequest;

pub fn send_input(processes: &Processes, req: SendInputRequest) -> GuestResult<()> {
    let handle = processes.registry.find_running(&selector(req.process.into())?)?;
    write_input(&handle, req.input.into())
}
