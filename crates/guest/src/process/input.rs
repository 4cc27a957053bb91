//! Writes one ProcessInput to a running process; shared by SendInput and StreamInput
//! (src/guest/process/input.ts).
use bytes::Bytes;

use super::handle::ProcessHandle;
use crate::error::GuestResult;
use crate::proto::process::ProcessInput;
use crate::proto::process::process_input::Input;

pub fn write_input(handle: &ProcessHandle, input: Option<ProcessInput>) -> GuestResult<()> {
    // stdin and pty bytes both go to the process's input side: the PTY's master for a PTY process.
    match input.and_then(|i| i.input) {
        Some(Input::Stdin(data) | Input::Pty(data)) => handle.write_input(Bytes::from(data)),
        None => Ok(()),
    }
}
