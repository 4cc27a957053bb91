//! The tasks behind a running process: one reads its output into its handle until it has
//! ended and its output is drained, then records the end; one writes its queued input.
use std::os::fd::OwnedFd;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use tokio::io::unix::AsyncFd;
use tokio::sync::{mpsc, oneshot};
use tokio::time::{Instant, sleep};

use super::end::{Exit, ProcessEnd};
use super::fd;
use super::handle::{HandleEvent, OutputKind, ProcessHandle};
use super::registry::Registry;

/// envd's largest data frames (docs/e2b.md, the guest protocol): reads are no larger, so every
/// chunk read is one frame.
const MAX_STD_CHUNK: usize = 32 * 1024;
const MAX_PTY_CHUNK: usize = 16 * 1024;

/// How long output is still read after the process exited. A background child that inherited
/// stdout would otherwise hold the stream (and the end event) open forever; envd's Wait returns
/// once the process exits too.
const DRAIN_GRACE: Duration = Duration::from_millis(200);

/// The guest's ends of a process's output.
pub enum Output {
    Pipes { stdout: AsyncFd<OwnedFd>, stderr: AsyncFd<OwnedFd> },
    Pty(Arc<AsyncFd<OwnedFd>>),
}

/// Runs for the life of the process: output to the handle, then the end, to the registry too.
pub async fn drive(handle: Arc<ProcessHandle>, output: Output, exit: oneshot::Receiver<Exit>, registry: Arc<Registry>) {
    let end = match &output {
        Output::Pipes { stdout, stderr } => {
            pump(&handle, (stdout, OutputKind::Stdout, MAX_STD_CHUNK), Some((stderr, OutputKind::Stderr, MAX_STD_CHUNK)), exit).await
        }
        Output::Pty(master) => pump(&handle, (master, OutputKind::Pty, MAX_PTY_CHUNK), None, exit).await,
    };
    // Closed now: a background child still writing gets EPIPE (or its terminal hangs up).
    drop(output);
    let subscribers = handle.finish(end.clone());
    // Retired before anyone hears the end, so a List after it no longer shows the process.
    registry.retire(&handle);
    for subscriber in subscribers {
        let _ = subscriber.send(HandleEvent::End(end.clone())).await;
    }
}

type Source<'a> = (&'a AsyncFd<OwnedFd>, OutputKind, usize);

/// Reads both sources into the handle until the process has exited and they are at their end,
/// or the drain grace after the exit is over; returns how the process ended.
async fn pump(handle: &ProcessHandle, first: Source<'_>, second: Option<Source<'_>>, mut exit: oneshot::Receiver<Exit>) -> ProcessEnd {
    let mut open = [true, second.is_some()];
    let mut end = None;
    let mut grace = pin!(sleep(Duration::ZERO));
    loop {
        if end.is_some() && open == [false, false] {
            break;
        }
        tokio::select! {
            chunk = read(Some(first)), if open[0] => match chunk {
                Some((kind, data)) => handle.emit(kind, data).await,
                None => open[0] = false,
            },
            chunk = read(second), if open[1] => match chunk {
                Some((kind, data)) => handle.emit(kind, data).await,
                None => open[1] = false,
            },
            status = &mut exit, if end.is_none() => {
                // A dropped sender means the reaper is gone with the runtime: nothing is known.
                end = Some(ProcessEnd::of(status.unwrap_or(Exit::Unknown)));
                grace.as_mut().reset(Instant::now() + DRAIN_GRACE);
            },
            () = &mut grace, if end.is_some() => break,
        }
    }
    end.expect("the loop ends only after the exit")
}

/// The next chunk of a source, None at its end (a read error ends it too).
async fn read(source: Option<Source<'_>>) -> Option<(OutputKind, Bytes)> {
    let (fd, kind, max) = source?;
    fd::read_chunk(fd, max).await.ok().flatten().map(|data| (kind, data))
}

/// Writes queued input in order until the queue closes (CloseStdin, or the end), then drops
/// its end of the descriptor: for a pipe that is the process's EOF.
pub async fn feed_input(fd: Arc<AsyncFd<OwnedFd>>, mut queue: mpsc::UnboundedReceiver<Bytes>) {
    while let Some(data) = queue.recv().await {
        // The process is gone or closed its stdin (EPIPE): the rest is dropped, as Node drops it.
        if fd::write_all(&fd, &data).await.is_err() {
            return;
        }
    }
}
