//! Descriptors for a process's stdio: pipes and PTY ends made close-on-exec and above 2, and
//! the guest's ends read and written through tokio's reactor.
use std::cell::RefCell;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use bytes::Bytes;
use tokio::io::Interest;
use tokio::io::unix::AsyncFd;

/// A pipe as (read end, write end), both close-on-exec.
pub fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0; 2];
    // SAFETY: pipe2 fills both descriptors on success.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: both are freshly made and owned by nobody else.
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    Ok((above_stdio(r)?, above_stdio(w)?))
}

/// `fd` moved above 2 when it sits at 0, 1 or 2 (a guest started with its stdio closed): the
/// child's dup2 onto 0, 1 and 2 must not overwrite a descriptor it has yet to dup.
pub fn above_stdio(fd: OwnedFd) -> io::Result<OwnedFd> {
    if fd.as_raw_fd() > 2 {
        return Ok(fd);
    }
    // SAFETY: F_DUPFD_CLOEXEC makes a new descriptor for the same file, owned by the result.
    let moved = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 3) };
    if moved < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: freshly made above.
    Ok(unsafe { OwnedFd::from_raw_fd(moved) })
}

/// The guest's end of a pipe or PTY, registered with the reactor.
pub fn async_fd(fd: OwnedFd, interest: Interest) -> io::Result<AsyncFd<OwnedFd>> {
    set_nonblocking(fd.as_raw_fd())?;
    // SAFETY: an OwnedFd stays open, always as the same descriptor, until the AsyncFd drops it.
    Ok(unsafe { AsyncFd::register_with_interest(fd, interest) }?)
}

fn set_nonblocking(fd: RawFd) -> io::Result<()> {
    // SAFETY: plain flag changes on an open descriptor.
    unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        if flags < 0 || libc::fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK) < 0 {
            return Err(io::Error::last_os_error());
        }
    }
    Ok(())
}

thread_local! {
    /// Where every process's output is read before it is copied out at its size: one buffer
    /// for the guest's thread instead of one per process, most of which sit idle.
    static SCRATCH: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// The next chunk of at most `max` bytes once there is one; None at end of file. A PTY's
/// master reads EIO once no process holds the slave: that is its end of file. Cancel-safe: the
/// read happens within one poll.
pub async fn read_chunk(fd: &AsyncFd<OwnedFd>, max: usize) -> io::Result<Option<Bytes>> {
    loop {
        let mut ready = fd.readable().await?;
        let result = ready.try_io(|inner| {
            SCRATCH.with_borrow_mut(|buf| {
                if buf.len() < max {
                    buf.resize(max, 0);
                }
                // SAFETY: reads at most max bytes into buf, which holds at least max.
                match unsafe { libc::read(inner.as_raw_fd(), buf.as_mut_ptr().cast(), max) } {
                    n if n >= 0 => Ok(Bytes::copy_from_slice(&buf[..n as usize])),
                    _ => Err(io::Error::last_os_error()),
                }
            })
        });
        match result {
            Ok(Ok(chunk)) => return Ok((!chunk.is_empty()).then_some(chunk)),
            Ok(Err(e)) if e.raw_os_error() == Some(libc::EIO) => return Ok(None),
            Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
            Ok(Err(e)) => return Err(e),
            Err(_would_block) => {}
        }
    }
}

pub async fn write_all(fd: &AsyncFd<OwnedFd>, mut data: &[u8]) -> io::Result<()> {
    while !data.is_empty() {
        let mut ready = fd.writable().await?;
        // SAFETY: writes from data's initialised bytes.
        let result = ready.try_io(|inner| match unsafe { libc::write(inner.as_raw_fd(), data.as_ptr().cast(), data.len()) } {
            n if n >= 0 => Ok(n as usize),
            _ => Err(io::Error::last_os_error()),
        });
        match result {
            Ok(Ok(n)) => data = &data[n..],
            Ok(Err(e)) if e.kind() == io::ErrorKind::Interrupted => {}
            Ok(Err(e)) => return Err(e),
            Err(_would_block) => {}
        }
    }
    Ok(())
}
