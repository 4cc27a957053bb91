//! DELETE /files?path=… (src/guest/execd/files-delete.ts): deletes files; directories go
//! through DELETE /directories.
use super::Execd;
use super::errors::{ExecdError, ExecdResult};
use super::request::require_all;
use crate::error::{Code, GuestError};
use crate::filesystem::remove::remove_path;
use crate::http::query::Query;
use crate::http::respond::{self, HttpResponse};

pub fn delete_files(execd: &Execd, query: &Query) -> ExecdResult<HttpResponse> {
    for p in require_all(query, "path")? {
        let path = execd.path(p)?;
        let meta = std::fs::symlink_metadata(&path).map_err(|e| GuestError::io(&e, &path))?;
        if meta.is_dir() {
            return Err(ExecdError::with_code(
                Code::InvalidArgument,
                "INVALID_FILE",
                format!("'{path}' is a directory; delete it with DELETE /directories"),
            ));
        }
        remove_path(&path)?;
    }
    Ok(respond::empty(200))
}
