//! envd's `process.Process` service (src/guest/process/service.ts): the shared state, and the
//! trait's methods handing each RPC to its own module (docs/architecture.md, one RPC per module).
mod close_stdin;
mod connect;
mod driver;
pub(crate) mod end;
mod env;
mod events;
mod fd;
pub(crate) mod handle;
mod input;
pub(crate) mod launch;
mod list;
mod pty;
mod reaper;
mod registry;
mod selector;
mod send_input;
mod send_signal;
mod spawn;
mod start;
pub mod start_command;
mod stream_input;
mod update;

use std::sync::Arc;
use std::time::Duration;

use connectrpc::{InboundStream, RequestContext, Response, ServiceRequest, ServiceResult, ServiceStream};

use self::reaper::Reaper;
use self::registry::Registry;
use self::start_command::StartCommandReport;
use crate::context::Guest;
use crate::proto::process::{
    CloseStdinRequest, CloseStdinResponse, ConnectRequest, ConnectResponse, ListRequest, ListResponse, Process, SendInputRequest,
    SendInputResponse, SendSignalRequest, SendSignalResponse, StartRequest, StartResponse, StreamInputRequest, StreamInputResponse,
    UpdateRequest, UpdateResponse,
};

/// The processes the guest started, and what the service needs to start more.
pub struct Processes {
    pub(crate) guest: Arc<Guest>,
    registry: Arc<Registry>,
    reaper: Arc<Reaper>,
    start_command: Option<Arc<StartCommandReport>>,
}

impl Processes {
    /// `with_start_command`: the config names a start command, whose status GET /start-command
    /// reports from now on. Must be made inside the runtime, before any process is started.
    pub fn new(guest: Arc<Guest>, with_start_command: bool) -> std::io::Result<Arc<Self>> {
        Ok(Arc::new(Self {
            guest,
            registry: Arc::default(),
            reaper: Reaper::start()?,
            start_command: with_start_command.then(|| Arc::new(StartCommandReport::new())),
        }))
    }

    pub fn start_command(&self) -> Option<&StartCommandReport> {
        self.start_command.as_deref()
    }

    /// When the guest itself is told to stop: SIGTERM to every running process's group (they
    /// run in sessions of their own, out of reach of the signal tini sends the guest's group),
    /// then returns once they have all ended, or after `grace`. Meanwhile their output is still
    /// read and attached clients get their end: a program that reports its stop on a pipe the
    /// guest had already closed would die of SIGPIPE instead of shutting down.
    pub async fn terminate_all(&self, grace: Duration) {
        let running = self.registry.running();
        for handle in &running {
            handle.kill(libc::SIGTERM);
        }
        let _ = tokio::time::timeout(grace, futures::future::join_all(running.iter().map(|h| h.exited()))).await;
    }
}

// The methods name their concrete messages and streams where the trait says `impl Encodable`:
// connectrpc's documented way to implement a service.
#[allow(refining_impl_trait)]
impl Process for Processes {
    async fn list(&self, _ctx: RequestContext, _req: ServiceRequest<'_, ListRequest>) -> ServiceResult<ListResponse> {
        Response::ok(list::list(self))
    }

    async fn connect(&self, ctx: RequestContext, req: ServiceRequest<'_, ConnectRequest>) -> ServiceResult<ServiceStream<ConnectResponse>> {
        connect::connect(self, ctx, req.to_owned_message())
    }

    async fn start(&self, ctx: RequestContext, req: ServiceRequest<'_, StartRequest>) -> ServiceResult<ServiceStream<StartResponse>> {
        let req = req.to_owned_message();
        start::start(self, ctx, req).await
    }

    async fn update(&self, _ctx: RequestContext, req: ServiceRequest<'_, UpdateRequest>) -> ServiceResult<UpdateResponse> {
        update::update(self, req.to_owned_message())?;
        Response::ok(UpdateResponse::default())
    }

    async fn stream_input(&self, _ctx: RequestContext, requests: InboundStream<StreamInputRequest>) -> ServiceResult<StreamInputResponse> {
        stream_input::stream_input(self, requests).await?;
        Response::ok(StreamInputResponse::default())
    }

    async fn send_input(&self, _ctx: RequestContext, req: ServiceRequest<'_, SendInputRequest>) -> ServiceResult<SendInputResponse> {
        send_input::send_input(self, req.to_owned_message())?;
        Response::ok(SendInputResponse::default())
    }

    async fn send_signal(&self, _ctx: RequestContext, req: ServiceRequest<'_, SendSignalRequest>) -> ServiceResult<SendSignalResponse> {
        let req = req.to_owned_message();
        send_signal::send_signal(self, req).await?;
        Response::ok(SendSignalResponse::default())
    }

    async fn close_stdin(&self, _ctx: RequestContext, req: ServiceRequest<'_, CloseStdinRequest>) -> ServiceResult<CloseStdinResponse> {
        close_stdin::close_stdin(self, req.to_owned_message())?;
        Response::ok(CloseStdinResponse::default())
    }
}
