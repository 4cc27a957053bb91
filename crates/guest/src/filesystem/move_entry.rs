//! Move: renames a file or directory (copy + remove across file systems), creating the
//! destination's parents owned by the user.
use std::io;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use super::chown::{chown_all, missing_ancestors};
use super::entry::stat_entry;
use super::request::RequestScope;
use crate::error::{GuestError, GuestResult};
use crate::proto::filesystem::{MoveRequest, MoveResponse};
use crate::users::OsUser;

pub fn move_entry(scope: &RequestScope, req: &MoveRequest) -> GuestResult<MoveResponse> {
    let source = scope.path(&req.source);
    let destination = scope.path(&req.destination);
    move_as(&scope.user, &source, &destination).map_err(|e| GuestError::io(&e, &source))?;
    Ok(MoveResponse { entry: stat_entry(&destination, scope.users())?.into(), ..Default::default() })
}

pub(crate) fn move_as(user: &OsUser, source: &str, destination: &str) -> io::Result<()> {
    if let Some(parent) = Path::new(destination).parent() {
        let created = missing_ancestors(parent);
        std::fs::create_dir_all(parent)?;
        chown_all(&created, user)?;
    }
    match std::fs::rename(source, destination) {
        // /tmp or a volume may be another file system than the overlay root.
        Err(e) if e.raw_os_error() == Some(libc::EXDEV) => {
            copy_tree(Path::new(source), Path::new(destination))?;
            let meta = std::fs::symlink_metadata(source)?;
            if meta.is_dir() { std::fs::remove_dir_all(source) } else { std::fs::remove_file(source) }
        }
        other => other,
    }
}

/// Copies a file, link (verbatim) or directory tree, keeping modes and modification times.
fn copy_tree(from: &Path, to: &Path) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(from)?;
    if meta.file_type().is_symlink() {
        return std::os::unix::fs::symlink(std::fs::read_link(from)?, to);
    }
    if meta.is_dir() {
        std::fs::create_dir(to)?;
        for entry in std::fs::read_dir(from)? {
            let entry = entry?;
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
    } else {
        std::fs::copy(from, to)?;
    }
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(meta.mode() & 0o7777))?;
    let mtime = std::time::UNIX_EPOCH + std::time::Duration::new(meta.mtime() as u64, meta.mtime_nsec() as u32);
    std::fs::File::open(to)?.set_modified(mtime)
}
