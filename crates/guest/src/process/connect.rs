//! Connect: attaches to a running (or recently exited) process by pid or tag; live output only
//! (src/guest/process/connect.ts).
use buffa::MessageField;
use connectrpc::{RequestContext, Response, ServiceResult, ServiceStream};
use futures::StreamExt;

use super::Processes;
use super::events::{keepalive_interval, process_events};
use super::selector::selector;
use crate::proto::process::{ConnectRequest, ConnectResponse};

pub fn connect(processes: &Processes, ctx: RequestContext, req: ConnectRequest) -> ServiceResult<ServiceStream<ConnectResponse>> {
    let handle = processes.registry.find(&selector(req.process.into())?)?;
    let events = process_events(handle.pid, handle.subscribe(), keepalive_interval(&ctx), ctx.deadline());
    Response::stream_ok(events.map(|e| e.map(|event| ConnectResponse { event: MessageField::some(event), ..Default::default() })))
}
