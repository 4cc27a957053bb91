//! execd's FileInfo of a path (src/guest/execd/file-info.ts; lstat: a symlink is described, not followed).
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use super::errors::ExecdResult;
use crate::error::GuestError;
use crate::users::UserDb;

/// 0o755 → 755: execd writes permission bits as octal digits in a decimal number.
pub fn mode_digits(mode: u32) -> u32 {
    format!("{:o}", mode & 0o7777).parse().expect("octal digits are decimal digits")
}

/// 755 → 0o755; None when a digit is not octal.
pub fn mode_bits(digits: u32) -> Option<u32> {
    u32::from_str_radix(&digits.to_string(), 8).ok()
}

/// `toISOString`'s form: UTC with milliseconds.
pub fn iso(t: SystemTime) -> String {
    humantime::format_rfc3339_millis(t).to_string()
}

fn at(seconds: i64, nanos: i64) -> SystemTime {
    let since = Duration::new(seconds.unsigned_abs(), nanos as u32);
    if seconds >= 0 { UNIX_EPOCH + since } else { UNIX_EPOCH - since }
}

/// The kind execd names: a symlink itself, not its target.
pub fn kind(meta: &std::fs::Metadata) -> &'static str {
    let t = meta.file_type();
    if t.is_symlink() {
        "symlink"
    } else if t.is_dir() {
        "directory"
    } else if t.is_file() {
        "file"
    } else {
        "other"
    }
}

pub fn file_info(path: &str, users: &UserDb) -> ExecdResult<Value> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| GuestError::io(&e, path))?;
    // The birth time where the file system keeps one, else the change time, as Node's birthtime falls back.
    let created = meta.created().ok().filter(|t| *t > UNIX_EPOCH).unwrap_or_else(|| at(meta.ctime(), meta.ctime_nsec()));
    Ok(json!({
        "path": path,
        "type": kind(&meta),
        "size": meta.size(),
        "modified_at": iso(at(meta.mtime(), meta.mtime_nsec())),
        "created_at": iso(created),
        "owner": users.user_name(meta.uid()),
        "group": users.group_name(meta.gid()),
        "mode": mode_digits(meta.mode()),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_octal_digits() {
        assert_eq!(mode_digits(0o100644), 644);
        assert_eq!(mode_digits(0o4755), 4755);
        assert_eq!(mode_bits(755), Some(0o755));
        assert_eq!(mode_bits(689), None);
    }
}
