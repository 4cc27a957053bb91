//! Who may use /files and as whom (src/guest/http/file-user.ts, src/guest/auth.ts
//! requireFileAccess): the access token, or a v1_ signature that makes a /files URL shareable
//! (src/api/file-signature.ts; the E2B SDKs' `downloadUrl`/`uploadUrl`).
use base64::Engine;
use http::request::Parts;
use sha2::{Digest, Sha256};

use super::query::Query;
use super::rest::header;
use crate::auth::{ACCESS_TOKEN_HEADER, basic_auth_user, resolve_user, same_secret, token_accepted};
use crate::context::{Guest, GuestState};
use crate::error::{Code, GuestError, GuestResult};
use crate::users::OsUser;

#[derive(Clone, Copy)]
pub enum FileOperation {
    Read,
    Write,
}

impl FileOperation {
    fn as_str(self) -> &'static str {
        match self {
            FileOperation::Read => "read",
            FileOperation::Write => "write",
        }
    }
}

/// v1_ + base64(sha256("<path>:<op>:<username>:<token>[:<expiration>]")) without padding.
pub fn file_signature(path: &str, op: FileOperation, username: &str, token: &str, expiration: Option<&str>) -> String {
    let mut text = format!("{path}:{}:{username}:{token}", op.as_str());
    if let Some(exp) = expiration {
        text.push(':');
        text.push_str(exp);
    }
    let digest = Sha256::digest(text.as_bytes());
    format!("v1_{}", base64::engine::general_purpose::STANDARD_NO_PAD.encode(digest))
}

/// An expiration as JavaScript's Number() and String() see it: the signature covers String(Number(raw)).
fn expiration_seconds(raw: &str) -> Option<f64> {
    raw.trim().parse::<f64>().ok().filter(|n| n.is_finite())
}

fn js_number_string(n: f64) -> String {
    if n.fract() == 0.0 && n.abs() < 1e21 { format!("{}", n as i64) } else { format!("{n}") }
}

pub struct FileAuth<'a> {
    pub token: Option<&'a str>,
    pub signature: Option<&'a str>,
    pub expiration: Option<&'a str>,
    pub path: &'a str,
    pub op: FileOperation,
    pub username: &'a str,
    pub now_ms: u128,
}

/// /files is allowed with the token header or a valid, unexpired signature for that path, op and user.
pub fn require_file_access(state: &GuestState, a: &FileAuth) -> GuestResult<()> {
    let Some(token) = &state.access_token else { return Ok(()) };
    if token_accepted(state, a.token) {
        return Ok(());
    }
    let unauthenticated = |m: &str| Err(GuestError::new(Code::Unauthenticated, m));
    let Some(signature) = a.signature.filter(|s| !s.is_empty()) else {
        return unauthenticated("missing X-Access-Token or signature; sign the URL with downloadUrl()/uploadUrl()");
    };
    let expiration = match a.expiration.filter(|e| !e.is_empty()) {
        None => None,
        Some(raw) => match expiration_seconds(raw) {
            Some(exp) if exp * 1000.0 >= a.now_ms as f64 => Some(js_number_string(exp)),
            _ => return unauthenticated("the file URL signature has expired; create a new URL"),
        },
    };
    let want = file_signature(a.path, a.op, a.username, token, expiration.as_deref());
    if !same_secret(signature.as_bytes(), want.as_bytes()) {
        return unauthenticated("the file URL signature does not match this path, operation and user");
    }
    Ok(())
}

pub struct FileRequest {
    pub state: GuestState,
    pub user: OsUser,
    /// The `path` query exactly as sent (what signatures are computed over); None when absent.
    pub raw_path: Option<String>,
}

impl FileRequest {
    pub fn require_path(&self) -> GuestResult<&str> {
        match self.raw_path.as_deref() {
            Some(p) if !p.is_empty() => Ok(p),
            _ => Err(GuestError::new(Code::InvalidArgument, "query parameter path is required")),
        }
    }
}

/// The user a /files request acts as (`username` query, else Basic auth, else the default user),
/// once the token or signature admits it.
pub fn authorize_file_request(guest: &Guest, parts: &Parts, query: &Query, op: FileOperation) -> GuestResult<FileRequest> {
    let state = guest.state();
    let name = match query.get("username").filter(|n| !n.is_empty()) {
        Some(n) => Some(n.to_string()),
        None => basic_auth_user(header(parts, "authorization"))?,
    };
    let raw_path = query.get("path").map(str::to_string);
    let now_ms = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis()).unwrap_or(0);
    require_file_access(
        &state,
        &FileAuth {
            token: header(parts, ACCESS_TOKEN_HEADER),
            signature: query.get("signature"),
            expiration: query.get("signature_expiration"),
            path: raw_path.as_deref().unwrap_or(""),
            op,
            username: name.as_deref().unwrap_or(""),
            now_ms,
        },
    )?;
    let user = resolve_user(guest, &state, name.as_deref())?;
    Ok(FileRequest { state, user, raw_path })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(token: Option<&str>) -> GuestState {
        GuestState {
            access_token: token.map(str::to_string),
            env_vars: Default::default(),
            default_user: "root".into(),
            default_workdir: None,
        }
    }

    fn auth<'a>(signature: Option<&'a str>, expiration: Option<&'a str>, now_ms: u128) -> FileAuth<'a> {
        FileAuth { token: None, signature, expiration, path: "/f", op: FileOperation::Read, username: "", now_ms }
    }

    #[test]
    fn signatures_match_the_sdks() {
        // sha256("/tmp/a.txt:read:user:tok") in base64 without padding, as npm e2b's getSignature gives.
        let sig = file_signature("/tmp/a.txt", FileOperation::Read, "user", "tok", None);
        let digest = Sha256::digest(b"/tmp/a.txt:read:user:tok");
        assert_eq!(sig, format!("v1_{}", base64::engine::general_purpose::STANDARD.encode(digest).trim_end_matches('=')));
        assert_ne!(sig, file_signature("/tmp/a.txt", FileOperation::Write, "user", "tok", None));
        assert_ne!(sig, file_signature("/tmp/a.txt", FileOperation::Read, "user", "tok", Some("10")));
    }

    #[test]
    fn access_needs_the_token_or_a_fresh_matching_signature() {
        let s = state(Some("tok"));
        assert!(require_file_access(&state(None), &auth(None, None, 0)).is_ok());
        assert!(require_file_access(&s, &FileAuth { token: Some("tok"), ..auth(None, None, 0) }).is_ok());
        assert!(require_file_access(&s, &auth(None, None, 0)).is_err());
        let sig = file_signature("/f", FileOperation::Read, "", "tok", None);
        assert!(require_file_access(&s, &auth(Some(&sig), None, 0)).is_ok());
        assert!(require_file_access(&s, &auth(Some("v1_wrong"), None, 0)).is_err());
        let timed = file_signature("/f", FileOperation::Read, "", "tok", Some("100"));
        assert!(require_file_access(&s, &auth(Some(&timed), Some("100"), 99_000)).is_ok());
        assert!(require_file_access(&s, &auth(Some(&timed), Some("100.0"), 99_000)).is_ok());
        assert!(require_file_access(&s, &auth(Some(&timed), Some("100"), 100_001)).is_err());
        assert!(require_file_access(&s, &auth(Some(&timed), Some("soon"), 0)).is_err());
    }
}
