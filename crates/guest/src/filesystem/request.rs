//! What an RPC acts as: the guest's settings read once, and the user its Authorization names.
use std::sync::Arc;

use http::HeaderMap;

use crate::auth::{request_user, user_path};
use crate::context::{Guest, GuestState};
use crate::error::GuestResult;
use crate::users::{OsUser, UserDb};

pub struct RequestScope {
    pub guest: Arc<Guest>,
    pub state: GuestState,
    pub user: OsUser,
}

impl RequestScope {
    pub fn new(guest: &Arc<Guest>, headers: &HeaderMap) -> GuestResult<Self> {
        let state = guest.state();
        let authorization = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let user = request_user(guest, &state, authorization)?;
        Ok(Self { guest: guest.clone(), state, user })
    }

    /// A request path resolved for the user (`~`, relative paths).
    pub fn path(&self, path: &str) -> String {
        user_path(&self.state, &self.user, path)
    }

    pub fn users(&self) -> &UserDb {
        &self.guest.users
    }
}
