//! GET /files/search?path=<dir>&pattern=<glob, default **> (src/guest/execd/files-search.ts):
//! FileInfo of every regular file under the directory that matches.
use serde_json::Value;

use super::Execd;
use super::errors::{ExecdError, ExecdResult};
use super::file_info::file_info;
use super::glob::Glob;
use super::request::require_query;
use crate::error::Code;
use crate::filesystem::list_dir::walk;
use crate::http::query::Query;
use crate::http::respond::{self, HttpResponse};
use crate::proto::filesystem::FileType;

pub fn search_files(execd: &Execd, query: &Query) -> ExecdResult<HttpResponse> {
    let dir = execd.path(require_query(query, "path")?)?;
    let users = &execd.guest.users;
    if file_info(&dir, users)?["type"] != "directory" {
        return Err(ExecdError::new(Code::InvalidArgument, format!("'{dir}' is not a directory")));
    }
    let glob = Glob::new(query.get("pattern").filter(|p| !p.is_empty()).unwrap_or("**"));
    let mut entries = Vec::new();
    walk(&dir, u32::MAX, users, &mut entries)?;
    let prefix = format!("{}/", dir.trim_end_matches('/'));
    // Regular files only: a symlink reports its target's type (filesystem/entry.rs).
    let found = entries
        .iter()
        .filter(|e| e.r#type == FileType::File && !e.is_symlink)
        .filter(|e| glob.matches(e.path.strip_prefix(&prefix).unwrap_or(&e.path)))
        .map(|e| file_info(&e.path, users))
        .collect::<ExecdResult<Vec<Value>>>()?;
    Ok(respond::json(200, &Value::Array(found)))
}
