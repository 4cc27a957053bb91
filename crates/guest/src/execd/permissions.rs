//! Applying execd's `{mode, owner, group}` to a path (src/guest/execd/permissions.ts; POST
//! /files/permissions, uploads, POST /directories).
use std::os::unix::fs::PermissionsExt;

use serde::Deserialize;

use super::errors::{ExecdError, ExecdResult};
use super::file_info::mode_bits;
use crate::error::{Code, GuestError};
use crate::users::UserDb;

#[derive(Deserialize, Default)]
pub struct Permission {
    /// Octal digits written as a decimal number (755), as upstream.
    pub mode: Option<u32>,
    pub owner: Option<String>,
    pub group: Option<String>,
}

pub fn apply_permission(path: &str, p: &Permission, users: &UserDb) -> ExecdResult<()> {
    let bad = |message: String| ExecdError::new(Code::InvalidArgument, message);
    let bits = match p.mode {
        Some(mode) if mode > 7777 => return Err(bad(format!("invalid request body: mode: must be at most 7777, got {mode}"))),
        Some(mode) => Some(mode_bits(mode).ok_or_else(|| bad(format!("mode {mode} of '{path}' is not octal digits (e.g. 644)")))?),
        None => None,
    };
    let uid = match &p.owner {
        Some(owner) => Some(users.by_name(owner).ok_or_else(|| bad(format!("owner '{owner}' is not a user of this sandbox")))?.uid),
        None => None,
    };
    let gid = match &p.group {
        Some(group) => Some(users.group_id(group).ok_or_else(|| bad(format!("group '{group}' is not a group of this sandbox")))?),
        None => None,
    };
    let io = |e: std::io::Error| ExecdError::from(GuestError::io(&e, path));
    std::fs::symlink_metadata(path).map_err(io)?;
    if let Some(bits) = bits {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(bits)).map_err(io)?;
    }
    if uid.is_some() || gid.is_some() {
        std::os::unix::fs::chown(path, uid, gid).map_err(io)?;
    }
    Ok(())
}
