//! Pseudo-terminals for PTY processes (the TypeScript guest's node-pty): a master the guest
//! reads and writes, a slave that becomes the program's stdio and controlling terminal.
use std::ffi::c_char;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

use super::fd::above_stdio;

/// node-pty's size when the request gives none (a 0 from the wire).
pub const DEFAULT_COLS: u16 = 80;
pub const DEFAULT_ROWS: u16 = 24;

pub struct Pty {
    pub master: OwnedFd,
    pub slave: OwnedFd,
}

/// A new terminal of `cols` x `rows`, both ends close-on-exec. Made by hand rather than with
/// openpty(3), which leaves them inheritable by anything else the guest starts meanwhile.
pub fn open(cols: u16, rows: u16) -> io::Result<Pty> {
    // SAFETY: each call is checked; descriptors are owned as soon as they exist.
    unsafe {
        let master = libc::posix_openpt(libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        if master < 0 {
            return Err(io::Error::last_os_error());
        }
        let master = OwnedFd::from_raw_fd(master);
        if libc::grantpt(master.as_raw_fd()) != 0 || libc::unlockpt(master.as_raw_fd()) != 0 {
            return Err(io::Error::last_os_error());
        }
        let mut name = [0 as c_char; 128];
        let err = libc::ptsname_r(master.as_raw_fd(), name.as_mut_ptr(), name.len());
        if err != 0 {
            return Err(io::Error::from_raw_os_error(err));
        }
        let slave = libc::open(name.as_ptr(), libc::O_RDWR | libc::O_NOCTTY | libc::O_CLOEXEC);
        if slave < 0 {
            return Err(io::Error::last_os_error());
        }
        let slave = OwnedFd::from_raw_fd(slave);
        resize(master.as_raw_fd(), cols, rows)?;
        Ok(Pty { master: above_stdio(master)?, slave: above_stdio(slave)? })
    }
}

/// Sets the terminal's size; the kernel sends SIGWINCH to its foreground process group.
pub fn resize(master: RawFd, cols: u16, rows: u16) -> io::Result<()> {
    let size = libc::winsize { ws_row: rows, ws_col: cols, ws_xpixel: 0, ws_ypixel: 0 };
    // SAFETY: TIOCSWINSZ reads one winsize.
    if unsafe { libc::ioctl(master, libc::TIOCSWINSZ, &size) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}
