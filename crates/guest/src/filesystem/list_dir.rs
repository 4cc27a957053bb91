//! ListDir: entries of a directory down to `depth` levels (1 = the directory itself).
use std::path::Path;

use super::entry::stat_entry;
use super::request::RequestScope;
use crate::error::{Code, GuestError, GuestResult};
use crate::proto::filesystem::{EntryInfo, FileType, ListDirRequest, ListDirResponse};
use crate::users::UserDb;

/// Appends the entries under `dir` down to `depth` levels, in lexical order. A symlink to a
/// directory is listed (with its target's type) but not descended into, so a link loop ends.
pub(crate) fn walk(dir: &str, depth: u32, users: &UserDb, out: &mut Vec<EntryInfo>) -> GuestResult<()> {
    let read = std::fs::read_dir(dir).map_err(|e| GuestError::io(&e, dir))?;
    let mut names: Vec<String> = read.filter_map(|e| e.ok()).map(|e| e.file_name().to_string_lossy().into_owned()).collect();
    // In JavaScript's order (UTF-16 code units), which differs from UTF-8's for astral-plane names.
    names.sort_by(|a, b| a.encode_utf16().cmp(b.encode_utf16()));
    for name in names {
        let path = Path::new(dir).join(&name).to_string_lossy().into_owned();
        // Removed while listing: left out.
        let Ok(entry) = stat_entry(&path, users) else { continue };
        let descend = depth > 1 && entry.r#type == FileType::Directory && !entry.is_symlink;
        out.push(entry);
        if descend {
            walk(&path, depth - 1, users, out)?;
        }
    }
    Ok(())
}

pub fn list_dir(scope: &RequestScope, req: &ListDirRequest) -> GuestResult<ListDirResponse> {
    let path = scope.path(&req.path);
    let meta = std::fs::metadata(&path).map_err(|e| GuestError::io(&e, &path))?;
    if !meta.is_dir() {
        return Err(GuestError::new(Code::InvalidArgument, format!("'{path}' is not a directory")));
    }
    let mut entries = Vec::new();
    walk(&path, req.depth.max(1), scope.users(), &mut entries)?;
    Ok(ListDirResponse { entries, ..Default::default() })
}
