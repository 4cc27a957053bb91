//! The `filesystem.Filesystem` service (src/guest/filesystem/): each RPC lives in its own module
//! beside this one; here are the shared state (the polling watchers) and the trait glue that
//! resolves the request's user and maps failures to Connect errors.
mod chown;
mod entry;
pub(crate) mod list_dir;
pub(crate) mod make_dir;
pub mod metadata;
pub(crate) mod move_entry;
mod polling;
pub(crate) mod remove;
mod request;
mod stat;
mod watch_dir;
mod watch_events;
mod watcher;

use std::sync::Arc;

use connectrpc::{ConnectError, RequestContext, Response, ServiceRequest, ServiceResult, ServiceStream};

use polling::PollingWatchers;
use request::RequestScope;
use watch_events::WatchSpec;

use crate::context::Guest;
use crate::proto::filesystem::*;

pub struct FilesystemService {
    guest: Arc<Guest>,
    watchers: PollingWatchers,
}

impl FilesystemService {
    pub fn new(guest: Arc<Guest>) -> Self {
        Self { guest, watchers: PollingWatchers::default() }
    }

    fn scope(&self, ctx: &RequestContext) -> Result<RequestScope, ConnectError> {
        Ok(RequestScope::new(&self.guest, ctx.headers())?)
    }
}

// Concrete response types where the trait names `impl Encodable`: what connectrpc's own examples do.
#[allow(refining_impl_trait)]
impl Filesystem for FilesystemService {
    async fn stat(&self, ctx: RequestContext, request: ServiceRequest<'_, StatRequest>) -> ServiceResult<StatResponse> {
        Ok(Response::new(stat::stat(&self.scope(&ctx)?, &request.to_owned_message())?))
    }

    async fn make_dir(&self, ctx: RequestContext, request: ServiceRequest<'_, MakeDirRequest>) -> ServiceResult<MakeDirResponse> {
        Ok(Response::new(make_dir::make_dir(&self.scope(&ctx)?, &request.to_owned_message())?))
    }

    async fn r#move(&self, ctx: RequestContext, request: ServiceRequest<'_, MoveRequest>) -> ServiceResult<MoveResponse> {
        Ok(Response::new(move_entry::move_entry(&self.scope(&ctx)?, &request.to_owned_message())?))
    }

    async fn list_dir(&self, ctx: RequestContext, request: ServiceRequest<'_, ListDirRequest>) -> ServiceResult<ListDirResponse> {
        Ok(Response::new(list_dir::list_dir(&self.scope(&ctx)?, &request.to_owned_message())?))
    }

    async fn remove(&self, ctx: RequestContext, request: ServiceRequest<'_, RemoveRequest>) -> ServiceResult<RemoveResponse> {
        Ok(Response::new(remove::remove(&self.scope(&ctx)?, &request.to_owned_message())?))
    }

    async fn watch_dir(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, WatchDirRequest>,
    ) -> ServiceResult<ServiceStream<WatchDirResponse>> {
        let req = request.to_owned_message();
        let scope = self.scope(&ctx)?;
        let spec = WatchSpec::new(&scope, &req.path, req.recursive, req.include_entry, req.allow_network_mounts);
        let stream = watch_dir::watch_dir(self.guest.clone(), spec, watch_dir::keepalive_interval(ctx.headers()))?;
        Ok(Response::stream(stream))
    }

    async fn create_watcher(
        &self,
        ctx: RequestContext,
        request: ServiceRequest<'_, CreateWatcherRequest>,
    ) -> ServiceResult<CreateWatcherResponse> {
        let req = request.to_owned_message();
        let scope = self.scope(&ctx)?;
        let spec = WatchSpec::new(&scope, &req.path, req.recursive, req.include_entry, req.allow_network_mounts);
        let watcher_id = self.watchers.create(self.guest.clone(), spec)?;
        Ok(Response::new(CreateWatcherResponse { watcher_id, ..Default::default() }))
    }

    async fn get_watcher_events(
        &self,
        _ctx: RequestContext,
        request: ServiceRequest<'_, GetWatcherEventsRequest>,
    ) -> ServiceResult<GetWatcherEventsResponse> {
        let events = self.watchers.drain(&request.to_owned_message().watcher_id)?;
        Ok(Response::new(GetWatcherEventsResponse { events, ..Default::default() }))
    }

    async fn remove_watcher(
        &self,
        _ctx: RequestContext,
        request: ServiceRequest<'_, RemoveWatcherRequest>,
    ) -> ServiceResult<RemoveWatcherResponse> {
        self.watchers.remove(&request.to_owned_message().watcher_id)?;
        Ok(Response::new(RemoveWatcherResponse::default()))
    }
}
