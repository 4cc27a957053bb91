//! DELETE /directories?path=… (src/guest/execd/directories-delete.ts): removes each directory tree (rm -rf).
use super::Execd;
use super::errors::{ExecdError, ExecdResult};
use super::file_info::file_info;
use super::request::require_all;
use crate::error::Code;
use crate::filesystem::remove::remove_path;
use crate::http::query::Query;
use crate::http::respond::{self, HttpResponse};

pub fn delete_directories(execd: &Execd, query: &Query) -> ExecdResult<HttpResponse> {
    for p in require_all(query, "path")? {
        let path = execd.path(p)?;
        let info = file_info(&path, &execd.guest.users)?;
        if info["type"] != "directory" {
            let kind = info["type"].as_str().unwrap_or("other");
            return Err(ExecdError::new(Code::InvalidArgument, format!("'{path}' is a {kind}; delete it with DELETE /files")));
        }
        remove_path(&path)?;
    }
    Ok(respond::empty(200))
}
