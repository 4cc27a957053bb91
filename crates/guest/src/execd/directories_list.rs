//! GET /directories/list?path=&depth=1 (src/guest/execd/directories-list.ts): FileInfo of the
//! entries, in lexical order; a symlink as `path` is refused.
use serde_json::Value;

use super::Execd;
use super::errors::{ExecdError, ExecdResult};
use super::file_info::file_info;
use super::request::require_query;
use crate::error::Code;
use crate::filesystem::list_dir::walk;
use crate::http::query::Query;
use crate::http::respond::{self, HttpResponse};

pub fn list_directory(execd: &Execd, query: &Query) -> ExecdResult<HttpResponse> {
    let dir = execd.path(require_query(query, "path")?)?;
    let raw = query.get("depth").unwrap_or("1");
    let depth = raw
        .parse::<u32>()
        .ok()
        .filter(|d| *d >= 1)
        .ok_or_else(|| ExecdError::new(Code::InvalidArgument, format!("depth '{raw}' must be a positive integer")))?;
    let users = &execd.guest.users;
    let info = file_info(&dir, users)?;
    if info["type"] != "directory" {
        let kind = info["type"].as_str().unwrap_or("other");
        return Err(ExecdError::new(Code::InvalidArgument, format!("'{dir}' is a {kind}, not a directory")));
    }
    let mut entries = Vec::new();
    walk(&dir, depth, users, &mut entries)?;
    let infos = entries.iter().map(|e| file_info(&e.path, users)).collect::<ExecdResult<Vec<Value>>>()?;
    Ok(respond::json(200, &Value::Array(infos)))
}
