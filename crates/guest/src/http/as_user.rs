//! File system calls made with a user's permissions: the guest runs as root, but a write for a
//! user must reach only where the user could write, so a symlink the user planted
//! (`~/notes.txt -> /etc/shadow`) leads nowhere new, and what it creates is the user's.
//!
//! The TypeScript guest switches the process's effective ids (src/guest/http/files-post.ts,
//! asUser), which glibc applies to every thread. Here the file system ids and groups of the
//! calling thread alone are switched with raw syscalls (setfsuid, setfsgid and the kernel's
//! per-thread setgroups), and `f` is synchronous: no other request's code runs under them.
use crate::users::OsUser;

/// Restores root's file system ids and groups when dropped, also if `f` panics.
struct Restore {
    groups: Vec<libc::gid_t>,
}

impl Drop for Restore {
    fn drop(&mut self) {
        // SAFETY: plain syscalls on this thread's credentials, with a valid groups buffer.
        unsafe {
            libc::syscall(libc::SYS_setgroups, self.groups.len(), self.groups.as_ptr());
            libc::setfsgid(0);
            libc::setfsuid(0);
        }
    }
}

fn current_groups() -> Vec<libc::gid_t> {
    // SAFETY: a size-0 call asks for the count; the second fills a buffer of that size.
    unsafe {
        let n = libc::getgroups(0, std::ptr::null_mut());
        let mut groups = vec![0; n.max(0) as usize];
        let got = libc::getgroups(groups.len() as i32, groups.as_mut_ptr());
        groups.truncate(got.max(0) as usize);
        groups
    }
}

/// Runs `f` with `user`'s file system ids. Not needed for root, nor possible when the guest itself is not root.
pub fn as_user<T>(user: &OsUser, f: impl FnOnce() -> T) -> T {
    // SAFETY: geteuid has no preconditions.
    if user.uid == 0 || unsafe { libc::geteuid() } != 0 {
        return f();
    }
    let _restore = Restore { groups: current_groups() };
    // SAFETY: plain syscalls on this thread's credentials, with a valid one-group buffer.
    unsafe {
        libc::syscall(libc::SYS_setgroups, 1usize, &user.gid as *const u32);
        libc::setfsgid(user.gid);
        libc::setfsuid(user.uid);
    }
    f()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};

    #[test]
    fn what_a_user_creates_is_the_users_and_root_is_back_after() {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            return; // only a root guest switches
        }
        let dir = std::env::temp_dir().join(format!("agentbox-as-user-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let nobody = OsUser { name: "nobody".into(), uid: 65534, gid: 65534, home: "/".into(), shell: "/bin/sh".into() };
        as_user(&nobody, || std::fs::write(dir.join("mine"), "x")).unwrap();
        assert_eq!(std::fs::metadata(dir.join("mine")).unwrap().uid(), 65534);
        // A root-only directory is closed to the user, and open again to the guest after.
        let private = dir.join("private");
        std::fs::create_dir(&private).unwrap();
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(as_user(&nobody, || std::fs::write(private.join("f"), "x")).is_err());
        std::fs::write(private.join("f"), "x").unwrap();
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
