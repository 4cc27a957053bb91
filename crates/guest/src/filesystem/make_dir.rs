//! MakeDir: creates the directory and its parents, owned by the user; already_exists when present.
use std::path::Path;

use super::chown::{chown_all, missing_ancestors};
use super::entry::stat_entry;
use super::request::RequestScope;
use crate::error::{Code, GuestError, GuestResult};
use crate::proto::filesystem::{MakeDirRequest, MakeDirResponse};
use crate::users::OsUser;

pub fn make_dir(scope: &RequestScope, req: &MakeDirRequest) -> GuestResult<MakeDirResponse> {
    let path = scope.path(&req.path);
    if std::fs::metadata(&path).is_ok_and(|m| m.is_dir()) {
        return Err(GuestError::new(Code::AlreadyExists, format!("directory '{path}' already exists")));
    }
    make_dir_as(&scope.user, &path)?;
    Ok(MakeDirResponse { entry: stat_entry(&path, scope.users())?.into(), ..Default::default() })
}

/// mkdir -p of an absolute path, the directories it creates owned by `user`; an existing directory is fine.
pub(crate) fn make_dir_as(user: &OsUser, path: &str) -> GuestResult<()> {
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => return Ok(()),
        Ok(_) => return Err(GuestError::new(Code::InvalidArgument, format!("'{path}' exists and is not a directory"))),
        Err(_) => {}
    }
    let created = missing_ancestors(Path::new(path));
    std::fs::create_dir_all(path)
        .and_then(|()| chown_all(&created, user))
        .map_err(|e| GuestError::io(&e, path))
}
