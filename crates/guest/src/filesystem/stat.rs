//! Stat: one entry; not_found when missing (the SDK's exists() → false).
use super::entry::stat_entry;
use super::request::RequestScope;
use crate::error::GuestResult;
use crate::proto::filesystem::{StatRequest, StatResponse};

pub fn stat(scope: &RequestScope, req: &StatRequest) -> GuestResult<StatResponse> {
    let path = scope.path(&req.path);
    Ok(StatResponse { entry: stat_entry(&path, scope.users())?.into(), ..Default::default() })
}
