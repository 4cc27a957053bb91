//! GET /metrics (one sample) and GET /metrics/watch (a sample per second, one JSON object per
//! line, until the client leaves), from the same sampler as envd's GET /metrics
//! (src/guest/execd/metrics.ts).
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde_json::{Value, json};

use super::sse::{channel_body, now_ms};
use crate::context::Guest;
use crate::http::respond::{self, HttpResponse};

const WATCH_EVERY: Duration = Duration::from_secs(1);

fn sample(guest: &Guest) -> Value {
    let m = guest.metrics.snapshot();
    json!({
        "cpu_count": m["cpu_count"],
        "cpu_used_pct": m["cpu_used_pct"],
        "mem_total_mib": m["mem_total_mib"],
        "mem_used_mib": m["mem_used_mib"],
        "timestamp": now_ms(),
    })
}

pub fn get_metrics(guest: &Guest) -> HttpResponse {
    respond::json(200, &sample(guest))
}

pub fn watch_metrics(guest: Arc<Guest>) -> HttpResponse {
    let (tx, res) = channel_body("application/x-ndjson");
    tokio::spawn(async move {
        let mut every = tokio::time::interval(WATCH_EVERY);
        loop {
            every.tick().await;
            let mut line = serde_json::to_vec(&sample(&guest)).expect("a serde_json::Value always serialises");
            line.push(b'\n');
            if tx.send(Bytes::from(line)).await.is_err() {
                return;
            }
        }
    });
    res
}
