//! WatchDir: a server stream of filesystem events under a directory; the first frame is `start`,
//! and a keepalive goes out after the client's Keepalive-Ping-Interval without other frames.
use std::time::Duration;

use connectrpc::ConnectError;
use futures::Stream;
use tokio::sync::mpsc;

use super::watch_events::WatchSpec;
use super::watcher::DirWatcher;
use crate::context::Guest;
use crate::error::GuestResult;
use crate::proto::filesystem::__buffa::oneof::watch_dir_response::Event as WireEvent;
use crate::proto::filesystem::{FilesystemEvent, WatchDirResponse, watch_dir_response};

/// envd's default when the client sends no Keepalive-Ping-Interval (docs/e2b.md).
const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(90);

/// The keepalive interval from the `Keepalive-Ping-Interval` header (seconds).
pub fn keepalive_interval(headers: &http::HeaderMap) -> Duration {
    headers
        .get("keepalive-ping-interval")
        .and_then(|v| v.to_str().ok())
        .and_then(|s| s.trim().parse::<f64>().ok())
        .filter(|s| s.is_finite() && *s > 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(DEFAULT_KEEPALIVE)
}

struct Watching {
    /// Kept so the watch lives exactly as long as the stream.
    _watcher: DirWatcher,
    events: mpsc::UnboundedReceiver<FilesystemEvent>,
    started: bool,
    keepalive: Duration,
}

fn frame(event: impl Into<Option<WireEvent>>) -> WatchDirResponse {
    WatchDirResponse { event: event.into(), ..Default::default() }
}

/// Starts the watch before the stream is returned, so nothing after the client sees `start` is missed.
pub fn watch_dir(
    guest: std::sync::Arc<Guest>,
    spec: WatchSpec,
    keepalive: Duration,
) -> GuestResult<impl Stream<Item = Result<WatchDirResponse, ConnectError>> + Send + 'static> {
    let (tx, events) = mpsc::unbounded_channel();
    let watcher = spec.start(guest, move |ev| {
        let _ = tx.send(ev);
    })?;
    let state = Watching { _watcher: watcher, events, started: false, keepalive };
    Ok(futures::stream::unfold(state, |mut s| async move {
        if !s.started {
            s.started = true;
            return Some((Ok(frame(watch_dir_response::StartEvent::default())), s));
        }
        let next = match tokio::time::timeout(s.keepalive, s.events.recv()).await {
            Ok(Some(ev)) => frame(ev),
            Ok(None) => return None,
            Err(_elapsed) => frame(watch_dir_response::KeepAlive::default()),
        };
        Some((Ok(next), s))
    }))
}
