//! Failures at the guest's two edges, as in the TypeScript guest (src/guest/errors.ts): handlers
//! return `GuestError`; the Connect edge maps its code to a Connect code
//! (src/api/envd-protocol.ts, CONNECT_CODE_OF), the REST edge to an HTTP status with envd's
//! `{code, message}` body (src/api/errors.ts, HTTP_STATUS).
use connectrpc::{ConnectError, ErrorCode};

/// agentbox's error codes (src/api/errors.ts) that a guest can raise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    InvalidArgument,
    NotFound,
    AlreadyExists,
    Conflict,
    Unauthenticated,
    PermissionDenied,
    ResourceExhausted,
    DeadlineExceeded,
    Unavailable,
    NotSupported,
    Internal,
}

#[derive(Debug, Clone)]
pub struct GuestError {
    pub code: Code,
    pub message: String,
}

pub type GuestResult<T> = Result<T, GuestError>;

impl GuestError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self { code, message: message.into() }
    }

    pub fn http_status(&self) -> u16 {
        match self.code {
            Code::InvalidArgument => 400,
            Code::NotFound => 404,
            Code::AlreadyExists | Code::Conflict => 409,
            Code::Unauthenticated => 401,
            Code::PermissionDenied => 403,
            Code::ResourceExhausted => 429,
            Code::DeadlineExceeded => 504,
            Code::Unavailable => 503,
            Code::NotSupported => 501,
            Code::Internal => 500,
        }
    }

    /// An I/O failure on `path`, worded as the TypeScript guest's fsError: the message names the path.
    pub fn io(err: &std::io::Error, path: &str) -> Self {
        let code = match err.raw_os_error() {
            Some(libc::ENOENT) => Code::NotFound,
            Some(libc::EEXIST | libc::ENOTEMPTY) => Code::AlreadyExists,
            Some(libc::ENOTDIR | libc::EISDIR | libc::EINVAL | libc::ELOOP | libc::ENAMETOOLONG) => Code::InvalidArgument,
            Some(libc::EACCES | libc::EPERM | libc::EROFS) => Code::PermissionDenied,
            Some(libc::ENOSPC | libc::EDQUOT) => Code::ResourceExhausted,
            _ => Code::Internal,
        };
        let message = if code == Code::NotFound {
            format!("path '{path}' does not exist")
        } else {
            format!("{} on '{path}'", errno_name(err))
        };
        Self { code, message }
    }
}

/// The errno's symbolic name (EACCES), as Node reports it, else the OS's description.
fn errno_name(err: &std::io::Error) -> String {
    let name = match err.raw_os_error() {
        Some(libc::ENOENT) => "ENOENT",
        Some(libc::EEXIST) => "EEXIST",
        Some(libc::ENOTEMPTY) => "ENOTEMPTY",
        Some(libc::ENOTDIR) => "ENOTDIR",
        Some(libc::EISDIR) => "EISDIR",
        Some(libc::EINVAL) => "EINVAL",
        Some(libc::ELOOP) => "ELOOP",
        Some(libc::ENAMETOOLONG) => "ENAMETOOLONG",
        Some(libc::EACCES) => "EACCES",
        Some(libc::EPERM) => "EPERM",
        Some(libc::EROFS) => "EROFS",
        Some(libc::ENOSPC) => "ENOSPC",
        Some(libc::EDQUOT) => "EDQUOT",
        Some(libc::EXDEV) => "EXDEV",
        _ => return err.to_string(),
    };
    name.to_string()
}

impl std::fmt::Display for GuestError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<GuestError> for ConnectError {
    fn from(e: GuestError) -> Self {
        let code = match e.code {
            Code::InvalidArgument => ErrorCode::InvalidArgument,
            Code::NotFound => ErrorCode::NotFound,
            Code::AlreadyExists => ErrorCode::AlreadyExists,
            Code::Conflict => ErrorCode::FailedPrecondition,
            Code::Unauthenticated => ErrorCode::Unauthenticated,
            Code::PermissionDenied => ErrorCode::PermissionDenied,
            Code::ResourceExhausted => ErrorCode::ResourceExhausted,
            Code::DeadlineExceeded => ErrorCode::DeadlineExceeded,
            Code::Unavailable => ErrorCode::Unavailable,
            Code::NotSupported => ErrorCode::Unimplemented,
            Code::Internal => ErrorCode::Internal,
        };
        ConnectError::new(code, e.message)
    }
}
