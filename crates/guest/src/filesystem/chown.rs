//! Ownership of what the guest creates on a user's behalf: the user, not the root guest
//! (src/guest/filesystem/chown.ts).
use std::path::{Path, PathBuf};

use crate::users::OsUser;

/// The ancestors of `path` (nearest last, `path` itself included) that do not exist yet, so they
/// can be chowned once made.
pub fn missing_ancestors(path: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut p = Some(path);
    while let Some(cur) = p {
        if cur.exists() {
            break;
        }
        out.insert(0, cur.to_path_buf());
        p = cur.parent();
    }
    out
}

pub fn chown_all(paths: &[PathBuf], user: &OsUser) -> std::io::Result<()> {
    for p in paths {
        std::os::unix::fs::chown(p, Some(user.uid), Some(user.gid))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_missing_ancestors_are_listed() {
        let base = std::env::temp_dir();
        let deep = base.join(format!("agentbox-chown-{}", std::process::id())).join("a").join("b");
        let missing = missing_ancestors(&deep);
        assert_eq!(missing.len(), 3);
        assert_eq!(missing.last().unwrap(), &deep);
        assert!(missing_ancestors(&base).is_empty());
    }
}
