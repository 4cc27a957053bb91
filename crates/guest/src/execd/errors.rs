//! execd's error edge (src/guest/execd/errors.ts): handlers fail with a `GuestError`, whose code
//! this table turns into the HTTP status and the `{code, message}` body of OpenSandbox's execd.
//! A handler that needs a more specific execd code (FILE_NOT_FOUND, MISSING_QUERY…) says so
//! with `ExecdError::with_code`.
use serde_json::json;

use crate::error::{Code, GuestError};
use crate::http::respond::{self, HttpResponse};

#[derive(Debug, Clone)]
pub struct ExecdError {
    error: GuestError,
    /// Overrides the table's execd code.
    execd_code: Option<&'static str>,
}

pub type ExecdResult<T> = Result<T, ExecdError>;

impl ExecdError {
    pub fn with_code(code: Code, execd_code: &'static str, message: impl Into<String>) -> Self {
        Self { error: GuestError::new(code, message), execd_code: Some(execd_code) }
    }

    pub fn new(code: Code, message: impl Into<String>) -> Self {
        GuestError::new(code, message).into()
    }

    /// The answer: the code's HTTP status and execd's `{code, message}`.
    pub fn response(&self) -> HttpResponse {
        let code = self.execd_code.unwrap_or(match self.error.code {
            Code::InvalidArgument => "INVALID_REQUEST_BODY",
            Code::NotFound => "FILE_NOT_FOUND",
            Code::Unauthenticated => "UNAUTHORIZED",
            Code::NotSupported => "NOT_SUPPORTED",
            _ => "RUNTIME_ERROR",
        });
        respond::json(self.error.http_status(), &json!({ "code": code, "message": self.error.message }))
    }
}

impl From<GuestError> for ExecdError {
    fn from(error: GuestError) -> Self {
        Self { error, execd_code: None }
    }
}
