//! execd's streamed answer (src/guest/execd/sse.ts, after OpenSandbox's controller/sse.go): each
//! event is one JSON object followed by a blank line, without `data:` (both SDKs accept either),
//! with a `timestamp` in ms. A `ping` every 3 s keeps proxies from idling the stream out, and
//! finds a client that left.
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::{Response, header};
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::http::respond::{BodyError, HttpResponse};

const PING_EVERY: Duration = Duration::from_secs(3);

/// Events that may wait for a slow client before the producer (a process's output) waits too.
const QUEUE: usize = 64;

pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// A response body fed through a bounded queue, and its sender; the body ends when every sender is gone.
pub fn channel_body(content_type: &'static str) -> (mpsc::Sender<Bytes>, HttpResponse) {
    let (tx, rx) = mpsc::channel::<Bytes>(QUEUE);
    let frames = futures::stream::unfold(rx, |mut rx| async move { rx.recv().await.map(|b| (Ok::<_, BodyError>(Frame::data(b)), rx)) });
    let res = Response::builder()
        .status(200)
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CACHE_CONTROL, "no-cache")
        .header("X-Accel-Buffering", "no")
        .body(StreamBody::new(frames).boxed_unsync())
        .expect("valid headers");
    (tx, res)
}

/// The producing end of an event stream; the stream ends when it is dropped.
pub struct EventSink {
    tx: mpsc::Sender<Bytes>,
    ping: JoinHandle<()>,
}

fn frame(event: Value) -> Bytes {
    let mut event = event;
    if let Value::Object(map) = &mut event {
        map.insert("timestamp".into(), now_ms().into());
    }
    let mut text = serde_json::to_vec(&event).expect("a serde_json::Value always serialises");
    text.extend_from_slice(b"\n\n");
    text.into()
}

/// Opens the stream: the sink to send events into, and the response that carries them.
pub fn open_event_stream() -> (EventSink, HttpResponse) {
    let (tx, mut res) = channel_body("text/event-stream");
    res.headers_mut().insert(header::CONNECTION, header::HeaderValue::from_static("keep-alive"));
    let pinger = tx.clone();
    let ping = tokio::spawn(async move {
        let mut every = tokio::time::interval_at(tokio::time::Instant::now() + PING_EVERY, PING_EVERY);
        loop {
            every.tick().await;
            if pinger.send(frame(json!({ "type": "ping", "text": "pong" }))).await.is_err() {
                return;
            }
        }
    });
    (EventSink { tx, ping }, res)
}

impl EventSink {
    /// Sends `event` (a JSON object) with its timestamp; dropped when the client has left.
    pub async fn send(&self, event: Value) {
        let _ = self.tx.send(frame(event)).await;
    }

    /// Resolves when the client has gone away (its body was dropped).
    pub async fn closed(&self) {
        self.tx.closed().await;
    }
}

impl Drop for EventSink {
    fn drop(&mut self) {
        self.ping.abort();
    }
}
