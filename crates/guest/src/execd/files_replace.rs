//! POST /files/replace[?verbose=true] (src/guest/execd/files-replace.ts): `{ "<path>": {old,
//! new} }` replaces every occurrence of `old` in each file; verbose answers `{ "<path>":
//! {replacedCount} }`. Every file is read before any is written, so a missing one leaves all untouched.
use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::Execd;
use super::errors::{ExecdError, ExecdResult};
use super::request::read_by_path;
use crate::error::{Code, GuestError};
use crate::http::query::Query;
use crate::http::respond::{self, HttpResponse};

#[derive(Deserialize)]
struct Replacement {
    old: String,
    new: String,
}

pub async fn replace_contents(execd: &Execd, query: &Query, body: Incoming) -> ExecdResult<HttpResponse> {
    let replacements = read_by_path::<Replacement>(body).await?;
    if let Some((p, _)) = replacements.iter().find(|(_, r)| r.old.is_empty()) {
        return Err(ExecdError::new(Code::InvalidArgument, format!("invalid request body: {p}.old: must not be empty")));
    }
    let mut edits = Vec::new();
    for (p, r) in replacements {
        let path = execd.path(&p)?;
        let text = std::fs::read(&path).map_err(|e| GuestError::io(&e, &path))?;
        let text = String::from_utf8_lossy(&text);
        let count = text.matches(r.old.as_str()).count();
        edits.push((p, path, text.replace(r.old.as_str(), &r.new), count));
    }
    let mut counts = Map::new();
    for (p, path, text, count) in edits {
        if count > 0 {
            std::fs::write(&path, text).map_err(|e| GuestError::io(&e, &path))?;
        }
        counts.insert(p, json!({ "replacedCount": count }));
    }
    Ok(if query.get("verbose") == Some("true") { respond::json(200, &Value::Object(counts)) } else { respond::empty(200) })
}
