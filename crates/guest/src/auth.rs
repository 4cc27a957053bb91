//! Who may call and as whom (src/guest/auth.ts, after E2B's published envd spec): the
//! X-Access-Token check and the `Authorization: Basic base64("<user>:")` user selection.
use std::path::{Component, Path, PathBuf};

use base64::Engine;

use crate::context::{Guest, GuestState};
use crate::error::{Code, GuestError, GuestResult};
use crate::users::OsUser;

pub const ACCESS_TOKEN_HEADER: &str = "x-access-token";

/// Whether two secrets are equal, in constant time: compared as SHA-256 digests, so neither where
/// they differ nor their lengths show in the time taken, and a secret cannot be guessed byte by byte.
pub fn same_secret(a: &[u8], b: &[u8]) -> bool {
    use sha2::{Digest, Sha256};
    let (a, b) = (Sha256::digest(a), Sha256::digest(b));
    a.iter().zip(b.iter()).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// True when no token is configured or `given` equals it.
pub fn token_accepted(state: &GuestState, given: Option<&str>) -> bool {
    match (&state.access_token, given) {
        (None, _) => true,
        (Some(want), Some(given)) => same_secret(want.as_bytes(), given.as_bytes()),
        (Some(_), None) => false,
    }
}

pub fn require_token(state: &GuestState, given: Option<&str>) -> GuestResult<()> {
    if token_accepted(state, given) {
        Ok(())
    } else {
        Err(GuestError::new(Code::Unauthenticated, "missing or wrong X-Access-Token; use the envdAccessToken of this sandbox"))
    }
}

/// The username of `Authorization: Basic base64("<user>:")`; None when the header is absent or names nobody.
pub fn basic_auth_user(header: Option<&str>) -> GuestResult<Option<String>> {
    let Some(header) = header else { return Ok(None) };
    let bad = || GuestError::new(Code::Unauthenticated, "Authorization must be Basic base64(\"<user>:\")");
    let mut parts = header.split_whitespace();
    let (Some(scheme), Some(encoded), None) = (parts.next(), parts.next(), parts.next()) else { return Err(bad()) };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad());
    }
    let decoded = base64::engine::general_purpose::STANDARD.decode(encoded).map_err(|_| bad())?;
    let decoded = String::from_utf8_lossy(&decoded);
    let name = decoded.split(':').next().unwrap_or("");
    Ok(if name.is_empty() { None } else { Some(name.to_string()) })
}

/// The OS user a request runs as: the named one, else the default; unknown names are refused.
pub fn resolve_user(guest: &Guest, state: &GuestState, name: Option<&str>) -> GuestResult<OsUser> {
    let wanted = name.unwrap_or(&state.default_user);
    guest.users.by_name(wanted).ok_or_else(|| {
        GuestError::new(Code::Unauthenticated, format!("user '{wanted}' does not exist in this sandbox's /etc/passwd"))
    })
}

/// The user an RPC or REST request runs as, from its Authorization header.
pub fn request_user(guest: &Guest, state: &GuestState, authorization: Option<&str>) -> GuestResult<OsUser> {
    let name = basic_auth_user(authorization)?;
    resolve_user(guest, state, name.as_deref())
}

/// Resolves a request path for `user` (src/guest/paths.ts): `~` and `~/x` expand to the home,
/// other relative paths resolve against the default workdir, else the home; `.` and `..` are folded.
pub fn user_path(state: &GuestState, user: &OsUser, path: &str) -> String {
    let base = state.default_workdir.as_deref().unwrap_or(&user.home);
    let joined = if path == "~" {
        PathBuf::from(&user.home)
    } else if let Some(rest) = path.strip_prefix("~/") {
        Path::new(&user.home).join(rest)
    } else {
        Path::new(base).join(path)
    };
    resolve_lexically(&joined)
}

/// Folds `.` and `..` lexically, as Node's path.resolve does (no symlinks are followed).
pub fn resolve_lexically(path: &Path) -> String {
    let mut out: Vec<&std::ffi::OsStr> = Vec::new();
    for c in path.components() {
        match c {
            Component::Normal(s) => out.push(s),
            Component::ParentDir => {
                out.pop();
            }
            Component::RootDir | Component::CurDir | Component::Prefix(_) => {}
        }
    }
    let mut s = String::new();
    for part in out {
        s.push('/');
        s.push_str(&part.to_string_lossy());
    }
    if s.is_empty() { "/".into() } else { s }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn state(token: Option<&str>, workdir: Option<&str>) -> GuestState {
        GuestState {
            access_token: token.map(str::to_string),
            env_vars: Default::default(),
            default_user: "root".into(),
            default_workdir: workdir.map(str::to_string),
        }
    }

    #[test]
    fn token_is_checked_only_when_set() {
        assert!(token_accepted(&state(None, None), None));
        assert!(token_accepted(&state(Some("t"), None), Some("t")));
        assert!(!token_accepted(&state(Some("t"), None), Some("u")));
        assert!(!token_accepted(&state(Some("t"), None), Some("tt")));
        assert!(!token_accepted(&state(Some("t"), None), None));
    }

    #[test]
    fn basic_auth_names_a_user() {
        assert_eq!(basic_auth_user(Some("Basic dXNlcjo=")).unwrap().as_deref(), Some("user"));
        assert_eq!(basic_auth_user(Some("basic Og==")).unwrap(), None);
        assert_eq!(basic_auth_user(None).unwrap(), None);
        assert_eq!(basic_auth_user(Some("Bearer x")).unwrap_err().code, Code::Unauthenticated);
        assert_eq!(basic_auth_user(Some("Basic !!")).unwrap_err().code, Code::Unauthenticated);
    }

    #[test]
    fn paths_resolve_like_node() {
        let user = OsUser { name: "u".into(), uid: 1, gid: 1, home: "/home/u".into(), shell: "/bin/sh".into() };
        assert_eq!(user_path(&state(None, None), &user, "~"), "/home/u");
        assert_eq!(user_path(&state(None, None), &user, "~/a/../b"), "/home/u/b");
        assert_eq!(user_path(&state(None, None), &user, "x"), "/home/u/x");
        assert_eq!(user_path(&state(None, Some("/w")), &user, "x/./y"), "/w/x/y");
        assert_eq!(user_path(&state(None, None), &user, "/a/../../b/"), "/b");
        assert_eq!(resolve_lexically(Path::new("/a/b/../c")), "/a/c");
        assert_eq!(resolve_lexically(Path::new("/a/./x")), "/a/x");
        assert_eq!(resolve_lexically(Path::new("/..")), "/");
    }
}
