//! Starting a watch for WatchDir and CreateWatcher: path checks and wire events
//! (src/guest/filesystem/watch-events.ts).
use std::ffi::CString;
use std::sync::Arc;

use super::entry::entry_from_metadata;
use super::request::RequestScope;
use super::watcher::DirWatcher;
use crate::context::Guest;
use crate::error::{Code, GuestError, GuestResult};
use crate::proto::filesystem::{EventType, FilesystemEvent};

pub struct WatchSpec {
    pub path: String,
    pub recursive: bool,
    pub include_entry: bool,
    pub allow_network_mounts: bool,
}

/// statfs magic numbers of the file systems envd treats as network mounts (NFS, CIFS, SMB, SMB2,
/// FUSE; Linux include/uapi/linux/magic.h): inotify sees only this machine's changes there, so
/// envd refuses to watch them unless the caller allows it (envd 0.6.4).
const NETWORK_FS_TYPES: [i64; 5] = [0x6969, 0xff534d42, 0x517b, 0xfe534d42, 0x65735546];

fn is_network_fs_type(kind: i64) -> bool {
    NETWORK_FS_TYPES.contains(&kind)
}

fn fs_type(path: &str) -> std::io::Result<i64> {
    let cpath = CString::new(path).map_err(|_| std::io::Error::from_raw_os_error(libc::EINVAL))?;
    // SAFETY: an all-zero statfs is a valid out-parameter; cpath is NUL-terminated.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statfs(cpath.as_ptr(), &mut st) } < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // f_type is signed on some targets: the magic is its 32-bit pattern.
    Ok(st.f_type as i64 & 0xffff_ffff)
}

/// Only these events describe an entry still at the path; a removed or renamed one has none (as envd).
fn carries_entry(t: EventType) -> bool {
    matches!(t, EventType::Create | EventType::Write | EventType::Chmod)
}

impl WatchSpec {
    pub fn new(scope: &RequestScope, path: &str, recursive: bool, include_entry: bool, allow_network_mounts: bool) -> Self {
        Self { path: scope.path(path), recursive, include_entry, allow_network_mounts }
    }

    /// Checks the path and starts the watch; `on_event` gets each event as it goes on the wire.
    pub fn start(self, guest: Arc<Guest>, mut on_event: impl FnMut(FilesystemEvent) + Send + 'static) -> GuestResult<DirWatcher> {
        let path = &self.path;
        let is_dir = std::fs::metadata(path).map_err(|e| GuestError::io(&e, path))?.is_dir();
        let kind = fs_type(path).map_err(|e| GuestError::io(&e, path))?;
        if !is_dir {
            return Err(GuestError::new(Code::InvalidArgument, format!("'{path}' is not a directory; watch its parent instead")));
        }
        if !self.allow_network_mounts && is_network_fs_type(kind) {
            return Err(GuestError::new(
                Code::InvalidArgument,
                format!("cannot watch path on network filesystem: {path}; events there may never arrive (pass allowNetworkMounts to watch it anyway)"),
            ));
        }
        let include_entry = self.include_entry;
        DirWatcher::start(path, self.recursive, move |raw| {
            let mut ev = FilesystemEvent { name: raw.name, r#type: raw.r#type.into(), ..Default::default() };
            match &raw.meta {
                Some(meta) if include_entry && carries_entry(raw.r#type) => {
                    ev.entry = entry_from_metadata(&raw.path, meta, &guest.users).into();
                }
                _ => {}
            }
            on_event(ev);
        })
        .map_err(|e| GuestError::io(&e, path))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn network_file_systems_are_known() {
        assert!(is_network_fs_type(0x6969));
        assert!(is_network_fs_type(0xff534d42));
        assert!(!is_network_fs_type(0xef53)); // ext4
        assert!(!is_network_fs_type(0x01021994)); // tmpfs
    }
}
