//! Reading an execd request (src/guest/execd/request.ts): its JSON body, and required query parameters.
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::errors::{ExecdError, ExecdResult};
use crate::error::Code;
use crate::http::query::Query;

/// More than any execd request body but an upload, which is streamed instead.
const MAX_BODY_BYTES: usize = 16 << 20;

/// A JSON document with its `null` members dropped: the Python SDK sends every unset optional
/// field as `null` (`"owner": null`), which means the same as leaving it out.
pub fn without_nulls(value: Value) -> Value {
    match value {
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        Value::Object(map) => Value::Object(map.into_iter().filter(|(_, v)| !v.is_null()).map(|(k, v)| (k, without_nulls(v))).collect()),
        other => other,
    }
}

/// The body as `T`; malformed JSON or a wrong shape is 400 INVALID_REQUEST_BODY.
pub async fn read_body<T: DeserializeOwned>(body: Incoming) -> ExecdResult<T> {
    let bytes = Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|e| ExecdError::new(Code::InvalidArgument, format!("the request body could not be read: {e}")))?
        .to_bytes();
    let raw: Value =
        serde_json::from_slice(&bytes).map_err(|e| ExecdError::new(Code::InvalidArgument, format!("the request body is not JSON: {e}")))?;
    serde_json::from_value(without_nulls(raw)).map_err(|e| ExecdError::new(Code::InvalidArgument, format!("invalid request body: {e}")))
}

/// A body field that must be at least `min`: refused in the words of the TypeScript guest's schema check.
pub fn at_least(name: &str, value: Option<i64>, min: i64) -> ExecdResult<Option<i64>> {
    match value {
        Some(v) if v < min => Err(ExecdError::new(Code::InvalidArgument, format!("invalid request body: {name}: must be at least {min}"))),
        other => Ok(other),
    }
}

/// Every non-empty value of a repeatable query parameter; none is 400 MISSING_QUERY.
pub fn require_all<'a>(query: &'a Query, name: &'a str) -> ExecdResult<Vec<&'a str>> {
    let values: Vec<&str> = query.all(name).filter(|v| !v.is_empty()).collect();
    if values.is_empty() {
        return Err(ExecdError::with_code(Code::InvalidArgument, "MISSING_QUERY", format!("query parameter '{name}' is required")));
    }
    Ok(values)
}

/// The first non-empty value of a query parameter; none is 400 MISSING_QUERY.
pub fn require_query<'a>(query: &'a Query, name: &'a str) -> ExecdResult<&'a str> {
    Ok(require_all(query, name)?[0])
}

/// A JSON object body keyed by path (`{ "<path>": T }`), in the order sent; an empty key is refused.
pub async fn read_by_path<T: DeserializeOwned>(body: Incoming) -> ExecdResult<Vec<(String, T)>> {
    let map: serde_json::Map<String, Value> = read_body(body).await?;
    map.into_iter()
        .map(|(path, value)| {
            if path.is_empty() {
                return Err(ExecdError::new(Code::InvalidArgument, "invalid request body: a path must not be empty"));
            }
            let value = serde_json::from_value(value)
                .map_err(|e| ExecdError::new(Code::InvalidArgument, format!("invalid request body: {path}: {e}")))?;
            Ok((path, value))
        })
        .collect()
}
