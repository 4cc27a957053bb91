//! Enforces the sandbox's pids limit inside a gVisor sandbox (src/guest/pids-limit.ts): the host
//! cgroup counts the sentry's threads, not the sandbox's tasks, so the guest moves itself into a
//! child pids cgroup of gVisor's own cgroupfs before it starts any process, and every process it
//! starts (and their children) is counted there; a fork bomb then gets EAGAIN instead of taking
//! the sandbox down. Root inside the sandbox can leave it: it keeps honest workloads within
//! `pids`, it is not a boundary (the host backstop is src/engine/runtime/pids-ceiling.ts).
use std::path::Path;

use serde_json::json;

use crate::log;

pub const PIDS_ROOT: &str = "/sys/fs/cgroup/pids";

/// Applies `limit` under `root`; false (and a log record saying why) when it could not.
pub fn confine_pids(limit: u32, root: &Path) -> bool {
    if !root.exists() {
        log::error("no pids cgroup in the sandbox; the pids limit is only enforced on the host", json!({ "limit": limit }));
        return false;
    }
    let dir = root.join("agentbox");
    // The limit counts the guest's own tasks too, exactly as the host cgroup does under runc,
    // so a sandbox's `pids` means the same on every runtime class.
    let applied = std::fs::create_dir_all(&dir)
        .and_then(|()| std::fs::write(dir.join("pids.max"), limit.to_string()))
        .and_then(|()| std::fs::write(dir.join("cgroup.procs"), std::process::id().to_string()));
    match applied {
        Ok(()) => true,
        Err(err) => {
            log::error("could not apply the pids limit inside the sandbox", json!({ "limit": limit, "error": err.to_string() }));
            false
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_the_limit_and_joins_the_cgroup() {
        let root = crate::test_dir::TestDir::new("pids");
        assert!(confine_pids(64, &root));
        assert_eq!(std::fs::read_to_string(root.join("agentbox/pids.max")).unwrap(), "64");
        assert_eq!(std::fs::read_to_string(root.join("agentbox/cgroup.procs")).unwrap(), std::process::id().to_string());
        assert!(!confine_pids(64, &root.join("missing")));
    }
}
