//! GET /heap-settled (src/guest/heap-settle.ts): a golden snapshot's builder waits on it so that
//! no copy starts with V8's memory reducer still pending. A native guest has no V8 heap and so
//! nothing pending: it answers settled at once, in the TypeScript guest's shape, with no reducer
//! collections and no time since one; `timeoutMs` is checked as there and then has nothing to wait for.
use serde_json::json;

use super::query::Query;
use super::respond::{self, HttpResponse};
use crate::error::{Code, GuestError, GuestResult};

/// The longest wait a caller may ask for (src/api/envd-protocol.ts, HEAP_SETTLED_MAX_WAIT_MS).
const MAX_WAIT_MS: u64 = 60_000;

/// `timeoutMs`: whole milliseconds up to MAX_WAIT_MS.
fn check_wait(query: &Query) -> GuestResult<()> {
    let Some(raw) = query.get("timeoutMs") else { return Ok(()) };
    let whole = !raw.is_empty() && raw.bytes().all(|b| b.is_ascii_digit());
    // Digits too many for a u64 are above the limit all the same.
    if !whole || raw.parse::<u64>().map_or(true, |ms| ms > MAX_WAIT_MS) {
        return Err(GuestError::new(
            Code::InvalidArgument,
            format!("timeoutMs must be whole milliseconds from 0 to {MAX_WAIT_MS}, got '{raw}'"),
        ));
    }
    Ok(())
}

pub fn heap_settled(query: &Query) -> GuestResult<HttpResponse> {
    check_wait(query)?;
    Ok(respond::json(200, &json!({ "settled": true, "reducerCollections": 0 })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_are_whole_milliseconds_within_the_limit() {
        for ok in ["0", "40000", "60000"] {
            assert!(check_wait(&Query::parse(Some(&format!("timeoutMs={ok}")))).is_ok(), "{ok}");
        }
        for bad in ["-1", "1.5", "soon", "60001", "", "99999999999999999999999"] {
            assert!(check_wait(&Query::parse(Some(&format!("timeoutMs={bad}")))).is_err(), "{bad}");
        }
        assert!(check_wait(&Query::parse(None)).is_ok());
    }
}
