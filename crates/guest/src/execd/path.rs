//! Paths of execd requests (src/guest/execd/path.ts): execd has no per-request user, so they
//! resolve as the sandbox's default user's, and are written as that user.
use super::Execd;
use super::errors::ExecdResult;
use crate::auth::{resolve_user, user_path};
use crate::users::OsUser;

impl Execd {
    /// The sandbox's default user, whom execd's file requests act as.
    pub fn default_user(&self) -> ExecdResult<OsUser> {
        Ok(resolve_user(&self.guest, &self.guest.state(), None)?)
    }

    /// A request's path, absolute, as the default user reads it (relative to its workdir).
    pub fn path(&self, path: &str) -> ExecdResult<String> {
        Ok(user_path(&self.guest.state(), &self.default_user()?, path))
    }
}
