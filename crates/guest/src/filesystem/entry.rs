//! EntryInfo for one path, as Stat, ListDir, MakeDir, Move and watch events report it
//! (src/guest/filesystem/entry.ts).
//!
//! A symlink is reported as envd 0.6.x does: `type` and `mode` are its target's, `is_symlink`
//! marks the link, `symlink_target` is the fully resolved path, and size and mtime stay the link's
//! own. A dangling link stays a SYMLINK whose target is its text resolved against its directory.
use std::fs::Metadata;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::Path;

use buffa_types::google::protobuf::Timestamp;

use super::metadata::read_metadata;
use crate::auth::resolve_lexically;
use crate::error::{GuestError, GuestResult};
use crate::proto::filesystem::{EntryInfo, FileType};
use crate::users::UserDb;

fn file_type(meta: &Metadata) -> FileType {
    let t = meta.file_type();
    if t.is_symlink() {
        FileType::Symlink
    } else if t.is_dir() {
        FileType::Directory
    } else if t.is_file() {
        FileType::File
    } else {
        FileType::Unspecified
    }
}

/// ls-style permission string, e.g. "drwxr-xr-x"; `kind` is 'l', 'd' or '-'.
fn permission_string(kind: char, mode: u32) -> String {
    let bits = b"rwxrwxrwx";
    let mut out = String::with_capacity(10);
    out.push(kind);
    for (i, bit) in bits.iter().enumerate() {
        out.push(if mode & (1 << (8 - i)) != 0 { *bit as char } else { '-' });
    }
    out
}

fn kind_of(meta: &Metadata) -> char {
    let t = meta.file_type();
    if t.is_symlink() {
        'l'
    } else if t.is_dir() {
        'd'
    } else {
        '-'
    }
}

/// Where a symlink leads: its resolved path and what is there, or only its text when it dangles.
fn follow_link(path: &str) -> Option<(String, Option<Metadata>)> {
    let resolved = std::fs::canonicalize(path).and_then(|target| Ok((std::fs::metadata(&target)?, target)));
    if let Ok((meta, target)) = resolved {
        return Some((target.to_string_lossy().into_owned(), Some(meta)));
    }
    // Raced away when even the link's text cannot be read.
    let text = std::fs::read_link(path).ok()?;
    let dir = Path::new(path).parent().unwrap_or(Path::new("/"));
    Some((resolve_lexically(&dir.join(text)), None))
}

fn base_name(path: &str) -> String {
    Path::new(path).file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// `meta` is lstat's view of `path`.
pub fn entry_from_metadata(path: &str, meta: &Metadata, users: &UserDb) -> EntryInfo {
    let link = if meta.file_type().is_symlink() { follow_link(path) } else { None };
    let shown = link.as_ref().and_then(|(_, m)| m.as_ref()).unwrap_or(meta);
    // A link that resolves shows its target's metadata; xattr calls do not follow a final link.
    let metadata_path = match &link {
        Some((target, Some(_))) => target.as_str(),
        _ => path,
    };
    EntryInfo {
        name: base_name(path),
        r#type: file_type(shown).into(),
        path: path.to_string(),
        size: meta.size() as i64,
        mode: shown.permissions().mode() & 0o777,
        permissions: permission_string(kind_of(meta), meta.mode()),
        owner: users.user_name(meta.uid()),
        group: users.group_name(meta.gid()),
        // Whole milliseconds, as Node's mtimeMs floored: clients compare them with their own stat.
        modified_time: Timestamp { seconds: meta.mtime(), nanos: (meta.mtime_nsec() / 1_000_000 * 1_000_000) as i32, ..Default::default() }.into(),
        symlink_target: link.as_ref().map(|(target, _)| target.clone()),
        metadata: read_metadata(metadata_path).unwrap_or_default().into_iter().collect(),
        is_symlink: meta.file_type().is_symlink(),
        ..Default::default()
    }
}

/// lstat-based entry; a missing path is not_found.
pub fn stat_entry(path: &str, users: &UserDb) -> GuestResult<EntryInfo> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| GuestError::io(&e, path))?;
    Ok(entry_from_metadata(path, &meta, users))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_strings_are_ls_style() {
        assert_eq!(permission_string('-', 0o100640), "-rw-r-----");
        assert_eq!(permission_string('d', 0o755), "drwxr-xr-x");
        assert_eq!(permission_string('l', 0o777), "lrwxrwxrwx");
        assert_eq!(permission_string('-', 0o4000), "----------");
    }
}
