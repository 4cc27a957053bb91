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
    let mut first_buf = vec![0u8; first.2];
    let mut second_buf = vec![0u8; second.map_or(0, |s| s.2)];
    let mut end = None;
    let mut grace = pin!(sleep(Duration::ZERO));
    loop {
        if end.is_some() && open == [false, false] {
            break;
        }
        tokio::select! {
            n = fd::read(first.0, &mut first_buf), if open[0] => match n {
                Ok(n) if n > 0 => handle.emit(first.1, Bytes::copy_from_slice(&first_buf[..n])).await,
                _ => open[0] = false,
            },
            n = read_second(second, &mut second_buf), if open[1] => match (n, second) {
                (Ok(n), Some((_, kind, _))) if n > 0 => handle.emit(kind, Bytes::copy_from_slice(&second_buf[..n])).await,
                _ => open[1] = false,
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

async fn read_second(second: Option<Source<'_>>, buf: &mut [u8]) -> std::io::Result<usize> {
    match second {
        Some((fd, _, _)) => fd::read(fd, buf).await,
        None => Ok(0),
    }
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
