//! A process's handle events as the wire's ProcessEvents, shared by Start and Connect
//! (src/guest/process/events.ts, src/guest/stream.ts): start{pid}, then live output with
//! keepalives while it is quiet, then the end. The stream stops early at the call's deadline;
//! the process itself is not touched here.
use std::time::Duration;

use bytes::Bytes;
use connectrpc::{ConnectError, RequestContext};
use futures::Stream;
use tokio::sync::mpsc::error::TryRecvError;
use tokio::time::{Instant, sleep_until};

use super::end::ProcessEnd;
use super::handle::{Feed, HandleEvent, OutputKind};
use crate::proto::process::ProcessEvent;
use crate::proto::process::process_event::{DataEvent, EndEvent, Event, KeepAlive, StartEvent, data_event::Output};

/// envd's keepalive interval when the client sends no Keepalive-Ping-Interval.
const DEFAULT_KEEPALIVE: Duration = Duration::from_secs(90);

/// The `Keepalive-Ping-Interval` header (seconds), else envd's default.
pub fn keepalive_interval(ctx: &RequestContext) -> Duration {
    let seconds = ctx.header("keepalive-ping-interval").and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<f64>().ok());
    match seconds {
        Some(s) if s.is_finite() && s > 0.0 => Duration::try_from_secs_f64(s).unwrap_or(DEFAULT_KEEPALIVE),
        _ => DEFAULT_KEEPALIVE,
    }
}

enum Next {
    Start,
    Events,
    Done,
}

struct Frames {
    pid: u32,
    feed: Feed,
    next: Next,
    keepalive: Duration,
    deadline: Option<Instant>,
}

/// The events of process `pid` from `feed`. A deadline ends the stream with deadline_exceeded
/// rather than a clean end, so a timed-out call never reads as one that simply finished.
pub fn process_events(
    pid: i32,
    feed: Feed,
    keepalive: Duration,
    deadline: Option<std::time::Instant>,
) -> impl Stream<Item = Result<ProcessEvent, ConnectError>> + Send + 'static {
    let frames = Frames { pid: pid as u32, feed, next: Next::Start, keepalive, deadline: deadline.map(Instant::from_std) };
    futures::stream::unfold(frames, |mut f| async move {
        let rx = match (&f.next, &mut f.feed) {
            (Next::Done, _) => return None,
            (Next::Start, _) => {
                f.next = Next::Events;
                return Some((Ok(wire(StartEvent { pid: f.pid, ..Default::default() })), f));
            }
            (Next::Events, Feed::Ended(end)) => {
                let end = end_event(end);
                f.next = Next::Done;
                return Some((Ok(end), f));
            }
            (Next::Events, Feed::Live(rx)) => rx,
        };
        let got = if f.deadline.is_some_and(|d| Instant::now() >= d) {
            Got::Deadline
        } else {
            match rx.try_recv() {
                Ok(event) => Got::Event(event),
                Err(TryRecvError::Disconnected) => Got::Closed,
                // Timers are armed only for a quiet process, not for every frame of a busy one.
                Err(TryRecvError::Empty) => tokio::select! {
                    biased;
                    () = until(f.deadline) => Got::Deadline,
                    received = tokio::time::timeout(f.keepalive, rx.recv()) => match received {
                        Err(_quiet) => Got::Quiet,
                        Ok(Some(event)) => Got::Event(event),
                        Ok(None) => Got::Closed,
                    },
                },
            }
        };
        let frame = match got {
            Got::Event(HandleEvent::Data(kind, data)) => Ok(data_event(kind, data)),
            Got::Quiet => Ok(wire(KeepAlive::default())),
            Got::Event(HandleEvent::End(end)) => {
                f.next = Next::Done;
                Ok(end_event(&end))
            }
            Got::Deadline => {
                f.next = Next::Done;
                Err(ConnectError::deadline_exceeded("the operation timed out"))
            }
            // The driver always sends the end before it lets go of a subscriber.
            Got::Closed => return None,
        };
        Some((frame, f))
    })
}

/// What waiting on a live feed came to.
enum Got {
    Event(HandleEvent),
    /// Nothing for a keepalive interval.
    Quiet,
    Deadline,
    Closed,
}

async fn until(deadline: Option<Instant>) {
    match deadline {
        Some(deadline) => sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}

fn wire(event: impl Into<Event>) -> ProcessEvent {
    ProcessEvent { event: Some(event.into()), ..Default::default() }
}

fn data_event(kind: OutputKind, data: Bytes) -> ProcessEvent {
    let data = data.to_vec();
    let output = match kind {
        OutputKind::Stdout => Output::Stdout(data),
        OutputKind::Stderr => Output::Stderr(data),
        OutputKind::Pty => Output::Pty(data),
    };
    wire(DataEvent { output: Some(output), ..Default::default() })
}

fn end_event(end: &ProcessEnd) -> ProcessEvent {
    wire(EndEvent { exit_code: end.exit_code, exited: end.exited, status: end.status.clone(), error: end.error.clone(), ..Default::default() })
}
