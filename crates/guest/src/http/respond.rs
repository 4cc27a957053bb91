//! The REST edge's answers (src/guest/http/respond.ts): JSON bodies, and envd's error body
//! `{code, message}` where `code` repeats the HTTP status.
use bytes::Bytes;
use http::{Response, StatusCode, header};
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};

use crate::error::GuestError;

pub type BodyError = Box<dyn std::error::Error + Send + Sync>;
pub type HttpBody = UnsyncBoxBody<Bytes, BodyError>;
pub type HttpResponse = Response<HttpBody>;

pub fn full(bytes: impl Into<Bytes>) -> HttpBody {
    Full::new(bytes.into()).map_err(|never| match never {}).boxed_unsync()
}

pub fn json(status: u16, body: &serde_json::Value) -> HttpResponse {
    let text = serde_json::to_vec(body).expect("a serde_json::Value always serialises");
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CONTENT_LENGTH, text.len())
        .body(full(text))
        .expect("a valid status and headers")
}

/// A body-less answer with `Content-Length: 0`, which generated clients need to skip parsing.
pub fn empty(status: u16) -> HttpResponse {
    Response::builder()
        .status(status)
        .header(header::CONTENT_LENGTH, 0)
        .body(full(Bytes::new()))
        .expect("a valid status")
}

/// `status` overrides the code's own status (507 for a full disk on upload, as envd answers).
pub fn error(err: &GuestError, status: Option<u16>) -> HttpResponse {
    let status = status.unwrap_or_else(|| err.http_status());
    let status = StatusCode::from_u16(status).map(|s| s.as_u16()).unwrap_or(500);
    json(status, &serde_json::json!({ "code": status, "message": err.message }))
}
