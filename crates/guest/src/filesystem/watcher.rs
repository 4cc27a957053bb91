//! Watches a directory (optionally its whole tree) with inotify, one watch per directory, as the
//! TypeScript guest's watcher.ts does through fs.watch; a created directory gets its watch at once.
//!
//! inotify's events are reduced to what fs.watch reports, "rename" (appeared/vanished) and
//! "change" (data or attributes), and classified by comparing with the last seen stats:
//! appeared → CREATE, vanished → REMOVE, mode changed → CHMOD, size or mtime changed (or nothing
//! visible) → WRITE. A rename shows as REMOVE of the old name and CREATE of the new one.
//!
//! The inotify descriptor is read on the runtime's own thread through tokio's AsyncFd, so a watch
//! costs no thread.
use std::collections::HashMap;
use std::ffi::CString;
use std::fs::Metadata;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use tokio::io::Interest;
use tokio::io::unix::AsyncFd;
use tokio::task::JoinHandle;

use crate::proto::filesystem::EventType;

pub struct RawWatchEvent {
    /// Relative to the watched root.
    pub name: String,
    pub path: String,
    pub r#type: EventType,
    /// lstat's view of the path, when it still exists.
    pub meta: Option<Metadata>,
}

/// The events fs.watch (libuv) asks inotify for.
const MASK: u32 = libc::IN_ATTRIB
    | libc::IN_CREATE
    | libc::IN_MODIFY
    | libc::IN_DELETE
    | libc::IN_DELETE_SELF
    | libc::IN_MOVE_SELF
    | libc::IN_MOVED_FROM
    | libc::IN_MOVED_TO;

/// What libuv calls a change; any other bit makes the event a rename.
const CHANGE_BITS: u32 = libc::IN_ATTRIB | libc::IN_MODIFY;

#[derive(PartialEq)]
struct Seen {
    mode: u32,
    size: u64,
    mtime: (i64, i64),
}

impl Seen {
    fn of(meta: &Metadata) -> Self {
        Self { mode: meta.permissions().mode(), size: meta.size(), mtime: (meta.mtime(), meta.mtime_nsec()) }
    }
}

struct Watches {
    fd: AsyncFd<OwnedFd>,
    root: String,
    recursive: bool,
    dirs: HashMap<i32, String>,
    wds: HashMap<String, i32>,
    seen: HashMap<String, Seen>,
}

/// A running watch; dropping it ends the watch and closes its inotify descriptor.
pub struct DirWatcher {
    task: JoinHandle<()>,
}

impl Drop for DirWatcher {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl DirWatcher {
    /// Starts watching `root`, which must be a directory; `on_event` runs on the runtime thread.
    pub fn start(root: &str, recursive: bool, mut on_event: impl FnMut(RawWatchEvent) + Send + 'static) -> io::Result<Self> {
        // SAFETY: inotify_init1 takes only flags; a non-negative result is a new descriptor we own.
        let raw = unsafe { libc::inotify_init1(libc::IN_NONBLOCK | libc::IN_CLOEXEC) };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: raw is a fresh descriptor nothing else owns, and the AsyncFd keeps it until it closes it.
        let fd = unsafe { AsyncFd::register_with_interest(OwnedFd::from_raw_fd(raw), Interest::READABLE)? };
        let mut w = Watches { fd, root: root.to_string(), recursive, dirs: HashMap::new(), wds: HashMap::new(), seen: HashMap::new() };
        w.add_dir(root)?;
        let task = tokio::spawn(async move {
            let mut buf = vec![0u8; 64 * 1024];
            loop {
                let Ok(mut guard) = w.fd.readable().await else { return };
                let read = guard.try_io(|fd| {
                    // SAFETY: buf has buf.len() writable bytes.
                    let n = unsafe { libc::read(fd.as_raw_fd(), buf.as_mut_ptr().cast(), buf.len()) };
                    if n < 0 { Err(io::Error::last_os_error()) } else { Ok(n as usize) }
                });
                let n = match read {
                    Ok(Ok(n)) => n,
                    Ok(Err(_)) => return,
                    Err(_would_block) => continue,
                };
                for (wd, mask, name) in parse_events(&buf[..n]) {
                    w.handle(wd, mask, name, &mut on_event);
                }
            }
        });
        Ok(Self { task })
    }
}

/// (watch descriptor, mask, name) of each inotify_event in `buf`; the name is empty for events
/// on the watched directory itself.
fn parse_events(buf: &[u8]) -> Vec<(i32, u32, String)> {
    const HEADER: usize = std::mem::size_of::<libc::inotify_event>();
    let mut out = Vec::new();
    let mut at = 0;
    while at + HEADER <= buf.len() {
        // SAFETY: HEADER bytes are in bounds; read_unaligned copes with any alignment.
        let ev: libc::inotify_event = unsafe { std::ptr::read_unaligned(buf[at..].as_ptr().cast()) };
        let name_end = (at + HEADER + ev.len as usize).min(buf.len());
        let raw_name = &buf[at + HEADER..name_end];
        let name = raw_name.split(|b| *b == 0).next().unwrap_or(&[]);
        out.push((ev.wd, ev.mask, String::from_utf8_lossy(name).into_owned()));
        at = name_end;
    }
    out
}

impl Watches {
    fn add_dir(&mut self, dir: &str) -> io::Result<()> {
        if self.wds.contains_key(dir) {
            return Ok(());
        }
        let cpath = CString::new(dir).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))?;
        // SAFETY: the descriptor is ours and cpath is NUL-terminated.
        let wd = unsafe { libc::inotify_add_watch(self.fd.get_ref().as_raw_fd(), cpath.as_ptr(), MASK) };
        if wd < 0 {
            return Err(io::Error::last_os_error());
        }
        self.dirs.insert(wd, dir.to_string());
        self.wds.insert(dir.to_string(), wd);
        let Ok(entries) = std::fs::read_dir(dir) else { return Ok(()) }; // raced away
        for entry in entries.flatten() {
            let path = Path::new(dir).join(entry.file_name()).to_string_lossy().into_owned();
            let Ok(meta) = std::fs::symlink_metadata(&path) else { continue };
            self.seen.insert(path.clone(), Seen::of(&meta));
            if self.recursive && meta.is_dir() {
                // A subdirectory that vanished before its watch is simply not watched.
                let _ = self.add_dir(&path);
            }
        }
        Ok(())
    }

    fn drop_dir(&mut self, dir: &str) {
        let prefix = format!("{dir}/");
        let gone: Vec<String> = self.wds.keys().filter(|d| *d == dir || d.starts_with(&prefix)).cloned().collect();
        for d in gone {
            if let Some(wd) = self.wds.remove(&d) {
                self.dirs.remove(&wd);
                // SAFETY: removing a watch of our own descriptor; a watch the kernel already dropped is EINVAL, harmless.
                unsafe { libc::inotify_rm_watch(self.fd.get_ref().as_raw_fd(), wd) };
            }
        }
    }

    fn handle(&mut self, wd: i32, mask: u32, name: String, on_event: &mut impl FnMut(RawWatchEvent)) {
        if mask & libc::IN_IGNORED != 0 {
            // The kernel dropped the watch (its directory is gone).
            if let Some(dir) = self.dirs.remove(&wd) {
                self.wds.remove(&dir);
            }
            return;
        }
        // Events on a watched directory itself are reported by its parent's watch, by name.
        if name.is_empty() {
            return;
        }
        let Some(dir) = self.dirs.get(&wd).cloned() else { return };
        let rename = mask & !CHANGE_BITS & MASK != 0;
        let path = Path::new(&dir).join(&name).to_string_lossy().into_owned();
        let meta = std::fs::symlink_metadata(&path).ok();
        let before = self.seen.get(&path);
        let mut types = Vec::with_capacity(2);
        match &meta {
            None => {
                if before.is_none() && !rename {
                    return;
                }
                self.seen.remove(&path);
                self.drop_dir(&path);
                types.push(EventType::Remove);
            }
            Some(m) if before.is_none() || rename => {
                types.push(EventType::Create);
                if self.recursive && m.is_dir() {
                    let _ = self.add_dir(&path);
                }
            }
            Some(m) => {
                // Stats are read when the event is handled, so one read may already show a
                // later write and a later chmod together: report each change it shows.
                let now = Seen::of(m);
                let before = before.expect("checked above");
                let mode_changed = now.mode != before.mode;
                let data_changed = now.size != before.size || now.mtime != before.mtime;
                if mode_changed {
                    types.push(EventType::Chmod);
                }
                if data_changed || !mode_changed {
                    types.push(EventType::Write);
                }
            }
        }
        if let Some(m) = &meta {
            self.seen.insert(path.clone(), Seen::of(m));
        }
        let relative = path.strip_prefix(&format!("{}/", self.root.trim_end_matches('/'))).unwrap_or(&path).to_string();
        for r#type in types {
            on_event(RawWatchEvent { name: relative.clone(), path: path.clone(), r#type, meta: meta.clone() });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inotify_records_are_parsed() {
        let mut buf = Vec::new();
        for (wd, mask, name) in [(1, libc::IN_CREATE, &b"a.txt\0\0\0"[..]), (2, libc::IN_DELETE_SELF, &b""[..])] {
            let ev = libc::inotify_event { wd, mask, cookie: 0, len: name.len() as u32 };
            // SAFETY: inotify_event is plain old data.
            let bytes = unsafe { std::slice::from_raw_parts((&ev as *const libc::inotify_event).cast::<u8>(), std::mem::size_of_val(&ev)) };
            buf.extend_from_slice(bytes);
            buf.extend_from_slice(name);
        }
        assert_eq!(parse_events(&buf), vec![(1, libc::IN_CREATE, "a.txt".to_string()), (2, libc::IN_DELETE_SELF, String::new())]);
    }
}
