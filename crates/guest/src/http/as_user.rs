//! File system calls made with a user's permissions: the guest runs as root, but a write for a
//! user must reach only where the user could write, so a symlink the user planted
//! (`~/notes.txt -> /etc/shadow`) leads nowhere new, and what it creates is the user's.
//!
//! The TypeScript guest switches the process's effective ids (src/guest/http/files-post.ts,
//! asUser), which glibc applies to every thread. Here the effective ids and groups of the
//! calling thread alone are switched with the raw syscalls (glibc's wrappers would switch every
//! thread), the saved ids stay root's so they can be switched back, and `f` is synchronous: no
//! other request's code runs under them. Not the file system ids (setfsuid): gVisor keeps those
//! equal to the effective ids and ignores setfsuid, so files were made as root in a sandbox.
use crate::error::{Code, GuestError, GuestResult};
use crate::users::OsUser;

/// setres[ug]id's "leave this id as it is".
const KEEP: libc::c_long = -1;

/// Restores root's file system ids and groups when dropped, also if `f` panics.
struct Restore {
    groups: Vec<libc::gid_t>,
}

impl Drop for Restore {
    fn drop(&mut self) {
        // SAFETY: plain syscalls on this thread's credentials, with a valid groups buffer.
        // Root's effective uid first: it is what allows the gid and groups to change back.
        unsafe {
            libc::syscall(libc::SYS_setresuid, KEEP, 0, KEEP);
            libc::syscall(libc::SYS_setresgid, KEEP, 0, KEEP);
            libc::syscall(libc::SYS_setgroups, self.groups.len(), self.groups.as_ptr());
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

/// Runs `f` with `user`'s effective ids and groups. Not needed for root, nor possible when the
/// guest itself is not root. Should a switch fail, `f` does not run: it would run as root.
pub fn as_user<T>(user: &OsUser, f: impl FnOnce() -> GuestResult<T>) -> GuestResult<T> {
    // SAFETY: geteuid has no preconditions.
    if user.uid == 0 || unsafe { libc::geteuid() } != 0 {
        return f();
    }
    let _restore = Restore { groups: current_groups() };
    // The groups and gid while still root; the uid last, since it gives up the right to change them.
    // SAFETY: plain syscalls on this thread's credentials, with a valid one-group buffer.
    let switched = unsafe {
        libc::syscall(libc::SYS_setgroups, 1usize, &user.gid as *const u32) == 0
            && libc::syscall(libc::SYS_setresgid, KEEP, user.gid, KEEP) == 0
            && libc::syscall(libc::SYS_setresuid, KEEP, user.uid, KEEP) == 0
    };
    if !switched {
        let err = std::io::Error::last_os_error();
        return Err(GuestError::new(Code::Internal, format!("cannot act as user '{}' ({err})", user.name)));
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
        let dir = crate::test_dir::TestDir::new("as-user");
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o1777)).unwrap();
        let nobody = OsUser { name: "nobody".into(), uid: 65534, gid: 65534, home: "/".into(), shell: "/bin/sh".into() };
        let write = |path: std::path::PathBuf| move || std::fs::write(&path, "x").map_err(|e| GuestError::io(&e, "f"));
        as_user(&nobody, write(dir.join("mine"))).unwrap();
        assert_eq!(std::fs::metadata(dir.join("mine")).unwrap().uid(), 65534);
        // A root-only directory is closed to the user, and open again to the guest after.
        let private = dir.join("private");
        std::fs::create_dir(&private).unwrap();
        std::fs::set_permissions(&private, std::fs::Permissions::from_mode(0o700)).unwrap();
        assert!(as_user(&nobody, write(private.join("f"))).is_err());
        std::fs::write(private.join("f"), "x").unwrap();
    }
}
