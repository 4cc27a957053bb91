//! Who may call execd (src/guest/execd/auth.ts): the sandbox's access token, the same secret
//! envd checks, in OpenSandbox's X-EXECD-ACCESS-TOKEN header or envd's X-Access-Token, so a
//! proxy that already adds envd's header reaches execd too. /ping is open, like envd's /health.
use http::HeaderMap;

use super::errors::{ExecdError, ExecdResult};
use crate::auth::{ACCESS_TOKEN_HEADER, token_accepted};
use crate::context::Guest;
use crate::error::Code;

const EXECD_TOKEN_HEADER: &str = "x-execd-access-token";

pub fn require_execd_token(guest: &Guest, headers: &HeaderMap) -> ExecdResult<()> {
    let given = headers.get(EXECD_TOKEN_HEADER).or_else(|| headers.get(ACCESS_TOKEN_HEADER)).and_then(|v| v.to_str().ok());
    if token_accepted(&guest.state(), given) {
        Ok(())
    } else {
        Err(ExecdError::new(Code::Unauthenticated, "missing or wrong X-EXECD-ACCESS-TOKEN; send the access token of this sandbox"))
    }
}
