//! Remove: deletes a file or a directory tree. A path that does not exist is no error: E2B's envd
//! removes with Go's os.RemoveAll, which succeeds on a missing path, and its SDKs pass that on.
use super::request::RequestScope;
use crate::error::{GuestError, GuestResult};
use crate::proto::filesystem::{RemoveRequest, RemoveResponse};

pub fn remove(scope: &RequestScope, req: &RemoveRequest) -> GuestResult<RemoveResponse> {
    let path = scope.path(&req.path);
    remove_path(&path)?;
    Ok(RemoveResponse::default())
}

/// Deletes a file or a directory tree at an absolute path; nothing there is no error.
pub(crate) fn remove_path(path: &str) -> GuestResult<()> {
    let result = match std::fs::symlink_metadata(path) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => Err(e),
        Ok(m) if m.is_dir() => std::fs::remove_dir_all(path),
        Ok(_) => std::fs::remove_file(path),
    };
    match result {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(GuestError::io(&e, path)),
        _ => Ok(()),
    }
}
