//! GET /files/info?path=a&path=b (src/guest/execd/files-info.ts): `{ "<path>": FileInfo }`; a
//! missing path is 404 FILE_NOT_FOUND.
use serde_json::{Map, Value};

use super::Execd;
use super::errors::ExecdResult;
use super::file_info::file_info;
use super::request::require_all;
use crate::http::query::Query;
use crate::http::respond::{self, HttpResponse};

pub fn files_info(execd: &Execd, query: &Query) -> ExecdResult<HttpResponse> {
    let mut out = Map::new();
    for p in require_all(query, "path")? {
        out.insert(p.to_string(), file_info(&execd.path(p)?, &execd.guest.users)?);
    }
    Ok(respond::json(200, &Value::Object(out)))
}
