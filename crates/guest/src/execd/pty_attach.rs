//! GET /pty/{id}/ws (src/guest/execd/pty-attach.ts): a PTY session's WebSocket. The client gets
//! a JSON `connected` frame, then (with `since=`) one replay frame of the kept history, then live
//! output; it sends stdin as binary frames behind a 0x00 byte and JSON control messages (resize,
//! signal, ping) as text. The request is checked before the upgrade, so a refusal is an HTTP
//! answer with execd's `{code, message}`; tungstenite does the framing after it.
use std::sync::Arc;
use std::time::Duration;

use futures::{SinkExt, StreamExt};
use http::request::Parts;
use http::{Response, header};
use hyper::upgrade::OnUpgrade;
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;

use super::Execd;
use super::errors::{ExecdError, ExecdResult};
use super::pty_session::{CHANNEL_STDIN, Client, CloseRequest, PtySession, close_frame, exit_frame, replay_frame};
use super::pty_status::find_pty;
use crate::error::Code;
use crate::http::query::Query;
use crate::http::respond::{self, HttpResponse};
use crate::process::handle::ProcessHandle;

/// Frames that may wait for a slow client before the process is held (pty_session.rs).
const CLIENT_QUEUE: usize = 16;

/// How long a closing socket waits for the client's close frame.
const CLOSE_GRACE: Duration = Duration::from_secs(1);

const SIGNALS: [(&str, i32); 10] = [
    ("SIGINT", libc::SIGINT),
    ("SIGTERM", libc::SIGTERM),
    ("SIGKILL", libc::SIGKILL),
    ("SIGHUP", libc::SIGHUP),
    ("SIGQUIT", libc::SIGQUIT),
    ("SIGTSTP", libc::SIGTSTP),
    ("SIGCONT", libc::SIGCONT),
    ("SIGUSR1", libc::SIGUSR1),
    ("SIGUSR2", libc::SIGUSR2),
    ("SIGWINCH", libc::SIGWINCH),
];

struct AttachOptions {
    on_terminal: bool,
    since: Option<u64>,
    takeover: bool,
}

fn attach_options(query: &Query) -> ExecdResult<AttachOptions> {
    let bad = |message: String| ExecdError::with_code(Code::InvalidArgument, "INVALID_REQUEST_BODY", message);
    let pty = query.get("pty").unwrap_or("1");
    if pty != "0" && pty != "1" {
        return Err(bad(format!("pty must be 0 (pipes) or 1 (a terminal), not '{pty}'")));
    }
    let since = match query.get("since").filter(|s| !s.is_empty()) {
        None => None,
        Some(raw) => Some(raw.parse::<u64>().ok().filter(|n| *n < 1 << 53).ok_or_else(|| {
            bad(format!("since must be a byte offset (a non-negative integer, as GET /pty/{{id}} reports in output_offset), not '{raw}'"))
        })?),
    };
    Ok(AttachOptions { on_terminal: pty == "1", since, takeover: query.get("takeover") == Some("1") })
}

/// Checks the request and answers 101; the WebSocket is served once hyper hands the connection over.
pub fn attach_pty(execd: &Execd, id: &str, parts: &Parts, query: &Query, upgrade: Option<OnUpgrade>) -> ExecdResult<HttpResponse> {
    let is_websocket = parts.headers.get(header::UPGRADE).and_then(|v| v.to_str().ok()).is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    let key = parts.headers.get(header::SEC_WEBSOCKET_KEY).filter(|_| is_websocket);
    let (Some(key), Some(upgrade)) = (key, upgrade) else {
        return Err(ExecdError::new(
            Code::InvalidArgument,
            format!("{} is a WebSocket: send the request with Upgrade: websocket", parts.uri.path()),
        ));
    };
    let session = find_pty(execd, id)?;
    let o = attach_options(query)?;
    if session.state.lock().unwrap().client.is_some() && !o.takeover {
        return Err(ExecdError::new(Code::Conflict, format!("PTY session '{id}' already has a client; connect with takeover=1 to replace it")));
    }
    let handle = session.start(execd, o.on_terminal)?;
    let accept = derive_accept_key(key.as_bytes());
    tokio::spawn(async move {
        let Ok(upgraded) = upgrade.await else { return };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None).await;
        serve_client(session, handle, ws, o.since).await;
    });
    Ok(Response::builder()
        .status(101)
        .header(header::UPGRADE, "websocket")
        .header(header::CONNECTION, "Upgrade")
        .header(header::SEC_WEBSOCKET_ACCEPT, accept)
        .body(respond::full(Vec::new()))
        .expect("valid headers"))
}

type Socket = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

fn json_frame(frame: Value) -> Message {
    Message::text(frame.to_string())
}

/// After our close frame: waits briefly for the client's, so it sees a clean close.
async fn drain(ws: &mut Socket) {
    let _ = tokio::time::timeout(CLOSE_GRACE, async { while let Some(Ok(_)) = ws.next().await {} }).await;
}

async fn close(ws: &mut Socket, request: CloseRequest) {
    let _ = ws.send(Message::Close(Some(close_frame(request)))).await;
    drain(ws).await;
}

/// Registers the client (closing the one it takes over), greets it, then relays until either side ends.
async fn serve_client(session: Arc<PtySession>, handle: Arc<ProcessHandle>, mut ws: Socket, since: Option<u64>) {
    let (frames, mut outgoing) = mpsc::channel(CLIENT_QUEUE);
    let (close_tx, mut close_rx) = oneshot::channel::<CloseRequest>();
    // Under one lock with the pump's appends: no byte is both replayed and sent live, or neither.
    let (me, connected, replay, exit_code) = {
        let mut state = session.state.lock().unwrap();
        let me = state.next_client_id();
        if let Some(previous) = state.client.replace(Client { id: me, frames, close: close_tx }) {
            let _ = previous.close.send((4001, "TAKEN_OVER"));
        }
        let connected = json!({ "type": "connected", "session_id": session.id, "pty": handle.is_pty(), "output_offset": state.output.end() });
        (me, connected, since.map(|s| state.output.since(s)), state.exit_code)
    };
    let _ = ws.send(json_frame(connected)).await;
    if let Some((offset, data)) = replay {
        let _ = ws.send(Message::binary(replay_frame(offset, &data))).await;
    }
    if let Some(code) = exit_code {
        let _ = ws.send(exit_frame(code)).await;
        close(&mut ws, (1000, "exited")).await;
    } else {
        relay(&session, &handle, &mut ws, &mut outgoing, &mut close_rx).await;
    }
    let mut state = session.state.lock().unwrap();
    if state.client.as_ref().is_some_and(|c| c.id == me) {
        state.client = None;
    }
}

async fn relay(
    session: &PtySession,
    handle: &ProcessHandle,
    ws: &mut Socket,
    outgoing: &mut mpsc::Receiver<Message>,
    close_rx: &mut oneshot::Receiver<CloseRequest>,
) {
    loop {
        tokio::select! {
            // First: a client taken over or deleted must get its close code, not a dropped socket.
            biased;
            Ok(request) = &mut *close_rx, if !close_rx.is_terminated() => return close(ws, request).await,
            incoming = ws.next() => match incoming {
                Some(Ok(Message::Text(text))) => {
                    if let Some(reply) = control(session, handle, text.as_str()) {
                        let _ = ws.send(json_frame(reply)).await;
                    }
                }
                Some(Ok(Message::Binary(data))) => {
                    if data.first() != Some(&CHANNEL_STDIN) {
                        let message = "binary frames from the client carry stdin: 0x00 followed by the bytes";
                        let _ = ws.send(json_frame(json!({ "type": "error", "message": message }))).await;
                    } else if handle.end().is_none() {
                        let _ = handle.write_input(data.slice(1..));
                    }
                }
                Some(Ok(_)) => {}
                None | Some(Err(_)) => return,
            },
            frame = outgoing.recv() => match frame {
                Some(frame) => {
                    let closing = matches!(frame, Message::Close(_));
                    if ws.send(frame).await.is_err() {
                        return;
                    }
                    if closing {
                        return drain(ws).await;
                    }
                }
                // The session let this client go: it says why on `close_rx`, or dropped both (gone).
                None => {
                    if !close_rx.is_terminated() && let Ok(request) = close_rx.await {
                        close(ws, request).await;
                    }
                    return;
                }
            },
        }
    }
}

/// Answers a control message; a malformed one gets an `error` frame and leaves the session as it is.
fn control(session: &PtySession, handle: &ProcessHandle, raw: &str) -> Option<Value> {
    let error = |message: String| Some(json!({ "type": "error", "message": message }));
    let Ok(m) = serde_json::from_str::<Value>(raw) else {
        return error(r#"control messages are JSON objects: {"type":"resize"|"signal"|"ping", …}"#.into());
    };
    match m["type"].as_str() {
        Some("ping") => Some(json!({ "type": "pong" })),
        Some("resize") => {
            let size = |k: &str| m[k].as_u64().filter(|n| *n >= 1).map(|n| n.min(u16::MAX.into()) as u16);
            let (Some(cols), Some(rows)) = (size("cols"), size("rows")) else {
                return error("resize needs positive integer cols and rows".into());
            };
            if handle.end().is_none() {
                let _ = handle.resize(cols, rows);
            }
            None
        }
        Some("signal") => match SIGNALS.iter().find(|(name, _)| m["signal"].as_str() == Some(name)) {
            Some((_, signal)) => {
                session.signal(*signal);
                None
            }
            None => error(format!("signal must be one of {}", SIGNALS.map(|(name, _)| name).join(", "))),
        },
        _ => {
            let kind = match &m["type"] {
                Value::String(s) => s.clone(),
                Value::Null => "undefined".into(),
                other => other.to_string(),
            };
            error(format!("unknown control message type '{kind}'; use resize, signal or ping"))
        }
    }
}
