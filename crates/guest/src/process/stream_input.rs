//! StreamInput: a client stream of input for one process, the first message naming it
//! (src/guest/process/stream-input.ts).
use std::sync::Arc;

use connectrpc::{ConnectError, InboundStream};
use futures::StreamExt;

use super::Processes;
use super::handle::ProcessHandle;
use super::input::write_input;
use super::selector::selector;
use crate::error::{Code, GuestError};
use crate::proto::process::StreamInputRequest;
use crate::proto::process::stream_input_request::Event;

pub async fn stream_input(processes: &Processes, mut requests: InboundStream<StreamInputRequest>) -> Result<(), ConnectError> {
    let mut handle: Option<Arc<ProcessHandle>> = None;
    while let Some(req) = requests.next().await {
        match req?.to_owned_message().event {
            Some(Event::Start(start)) => handle = Some(processes.registry.find_running(&selector(start.process.into())?)?),
            Some(Event::Data(data)) => {
                let Some(handle) = &handle else {
                    return Err(GuestError::new(Code::InvalidArgument, "StreamInput must start with a start event naming the process").into());
                };
                write_input(handle, data.input.into())?;
            }
            Some(Event::Keepalive(_)) | None => {}
        }
    }
    Ok(())
}
