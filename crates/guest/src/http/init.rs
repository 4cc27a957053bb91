//! POST /init (src/guest/http/init.ts): the engine re-keys a sandbox after restoring a fork or
//! snapshot (same memory, new identity): replaces the access token and the init secret itself,
//! and merges sandbox-wide env vars. Guarded by the init secret, never by the access token it
//! replaces; a restored copy gets a fresh secret, so knowing the source's opens no other sandbox.
use std::collections::BTreeMap;

use http::request::Parts;
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use serde_json::{Value, json};

use super::respond::{self, HttpResponse};
use super::rest::header;
use crate::auth::same_secret;
use crate::context::Guest;
use crate::error::{Code, GuestError, GuestResult};
use crate::log;

pub const INIT_SECRET_HEADER: &str = "x-agentbox-init-secret";
/// A stray client cannot exhaust memory with an init body.
const MAX_BODY_BYTES: usize = 1 << 20;
/// The shortest init secret a body may set.
const MIN_SECRET_LEN: usize = 16;

fn secret_matches(given: Option<&str>, want: &str) -> bool {
    given.is_some_and(|given| same_secret(given.as_bytes(), want.as_bytes()))
}

#[derive(Debug, Default, PartialEq)]
struct InitBody {
    access_token: Option<String>,
    init_secret: Option<String>,
    env_vars: Option<BTreeMap<String, String>>,
}

/// The body as the TypeScript guest's schema (zod) reads it: unknown keys ignored, and every
/// field that breaks it named as zod's issues are (`path: Invalid input`).
fn parse_body(raw: &Value) -> Result<InitBody, String> {
    let invalid = |path: &str| format!("{path}: Invalid input");
    let Some(obj) = raw.as_object() else { return Err(invalid("(root)")) };
    let mut issues = Vec::new();
    let mut string = |key: &str, min: usize| match obj.get(key) {
        None => None,
        Some(Value::String(s)) if s.encode_utf16().count() >= min => Some(s.clone()),
        Some(_) => {
            issues.push(invalid(key));
            None
        }
    };
    let access_token = string("accessToken", 1);
    let init_secret = string("initSecret", MIN_SECRET_LEN);
    let env_vars = match obj.get("envVars") {
        None => None,
        Some(Value::Object(map)) => {
            let mut vars = BTreeMap::new();
            for (k, v) in map {
                match v.as_str() {
                    Some(s) => {
                        vars.insert(k.clone(), s.to_string());
                    }
                    None => issues.push(invalid(&format!("envVars.{k}"))),
                }
            }
            Some(vars)
        }
        Some(_) => {
            issues.push(invalid("envVars"));
            None
        }
    };
    if issues.is_empty() { Ok(InitBody { access_token, init_secret, env_vars }) } else { Err(issues.join("; ")) }
}

pub async fn post_init(guest: &Guest, parts: &Parts, body: Incoming) -> GuestResult<HttpResponse> {
    let want = guest.init_secret.read().unwrap().clone();
    if !secret_matches(header(parts, INIT_SECRET_HEADER), &want) {
        return Err(GuestError::new(Code::Unauthenticated, format!("missing or wrong {INIT_SECRET_HEADER}")));
    }
    let bytes = Limited::new(body, MAX_BODY_BYTES)
        .collect()
        .await
        .map_err(|_| GuestError::new(Code::InvalidArgument, format!("request body larger than {MAX_BODY_BYTES} bytes")))?
        .to_bytes();
    let raw: Value = if bytes.is_empty() {
        json!({})
    } else {
        serde_json::from_slice(&bytes).map_err(|_| GuestError::new(Code::InvalidArgument, "init body must be JSON"))?
    };
    let init = parse_body(&raw).map_err(|issues| GuestError::new(Code::InvalidArgument, format!("bad init body: {issues}")))?;
    {
        let mut state = guest.state.write().unwrap();
        if let Some(token) = &init.access_token {
            state.access_token = Some(token.clone());
        }
        if let Some(vars) = &init.env_vars {
            state.env_vars.extend(vars.clone());
        }
    }
    if let Some(secret) = init.init_secret {
        *guest.init_secret.write().unwrap() = secret;
    }
    // A restored copy's console starts here: its boot's "guest listening" is in its source's.
    log::info(
        "guest re-keyed",
        json!({ "accessToken": init.access_token.is_some(), "envVars": init.env_vars.map_or(0, |v| v.len()) }),
    );
    Ok(respond::empty(204))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_init_secret_is_compared_whole() {
        assert!(secret_matches(Some("secret-abc"), "secret-abc"));
        assert!(!secret_matches(Some("secret-ab"), "secret-abc"));
        assert!(!secret_matches(None, "secret-abc"));
    }

    #[test]
    fn init_bodies_are_checked_like_the_schema() {
        let ok = parse_body(&json!({ "accessToken": "t", "envVars": { "A": "1" }, "other": 1 })).unwrap();
        assert_eq!(ok.access_token.as_deref(), Some("t"));
        assert_eq!(ok.env_vars.unwrap().get("A").map(String::as_str), Some("1"));
        assert_eq!(parse_body(&json!({})).unwrap(), InitBody::default());
        assert_eq!(parse_body(&json!({ "accessToken": "" })).unwrap_err(), "accessToken: Invalid input");
        assert_eq!(parse_body(&json!({ "initSecret": "short", "envVars": 3 })).unwrap_err(), "initSecret: Invalid input; envVars: Invalid input");
        assert_eq!(parse_body(&json!({ "envVars": { "A": 1 } })).unwrap_err(), "envVars.A: Invalid input");
        assert_eq!(parse_body(&json!({ "accessToken": null })).unwrap_err(), "accessToken: Invalid input");
        assert_eq!(parse_body(&json!([])).unwrap_err(), "(root): Invalid input");
    }
}
