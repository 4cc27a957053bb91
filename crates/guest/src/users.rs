//! OS users and groups as the sandbox's image defines them (/etc/passwd, /etc/group), read again
//! only when the file's identity (inode, size, modification and change time) changed, so a
//! `useradd` in a running sandbox is seen without a restart (src/guest/users.ts).
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;
use std::sync::Mutex;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OsUser {
    pub name: String,
    pub uid: u32,
    pub gid: u32,
    pub home: String,
    pub shell: String,
}

/// A file's inode, size, and modification and change times (seconds, nanoseconds).
type Identity = (u64, u64, i64, i64, i64, i64);

/// One colon-separated database file and the identity it was last read at.
struct Table {
    path: PathBuf,
    seen: Mutex<(Option<Identity>, Vec<Vec<String>>)>,
}

impl Table {
    fn new(path: PathBuf) -> Self {
        Self { path, seen: Mutex::new((None, Vec::new())) }
    }

    fn with_lines<T>(&self, f: impl FnOnce(&[Vec<String>]) -> T) -> T {
        let identity = std::fs::metadata(&self.path)
            .ok()
            .map(|m| (m.ino(), m.size(), m.mtime(), m.mtime_nsec(), m.ctime(), m.ctime_nsec()));
        let mut seen = self.seen.lock().unwrap();
        if seen.0.is_none() || seen.0 != identity {
            let text = std::fs::read_to_string(&self.path).unwrap_or_default();
            seen.1 = text
                .lines()
                .filter(|l| !l.is_empty() && !l.starts_with('#'))
                .map(|l| l.split(':').map(str::to_string).collect())
                .collect();
            seen.0 = identity;
        }
        f(&seen.1)
    }
}

pub struct UserDb {
    passwd: Table,
    group: Table,
}

fn field(f: &[String], i: usize) -> &str {
    f.get(i).map(String::as_str).unwrap_or("")
}

fn to_user(f: &[String]) -> Option<OsUser> {
    let or = |s: &str, d: &str| if s.is_empty() { d.to_string() } else { s.to_string() };
    Some(OsUser {
        name: field(f, 0).to_string(),
        uid: field(f, 2).parse().ok()?,
        gid: field(f, 3).parse().ok()?,
        home: or(field(f, 5), "/"),
        shell: or(field(f, 6), "/bin/sh"),
    })
}

impl UserDb {
    pub fn new(etc_dir: &str) -> Self {
        Self {
            passwd: Table::new(PathBuf::from(etc_dir).join("passwd")),
            group: Table::new(PathBuf::from(etc_dir).join("group")),
        }
    }

    pub fn by_name(&self, name: &str) -> Option<OsUser> {
        self.passwd.with_lines(|ls| ls.iter().find(|f| field(f, 0) == name).and_then(|f| to_user(f)))
    }

    pub fn by_uid(&self, uid: u32) -> Option<OsUser> {
        self.passwd.with_lines(|ls| ls.iter().find(|f| field(f, 2).parse() == Ok(uid)).and_then(|f| to_user(f)))
    }

    pub fn user_name(&self, uid: u32) -> String {
        self.by_uid(uid).map(|u| u.name).unwrap_or_else(|| uid.to_string())
    }

    /// The gid of the group `name` (/etc/group).
    pub fn group_id(&self, name: &str) -> Option<u32> {
        self.group.with_lines(|ls| ls.iter().find(|f| field(f, 0) == name).and_then(|f| field(f, 2).parse().ok()))
    }

    pub fn group_name(&self, gid: u32) -> String {
        self.group
            .with_lines(|ls| ls.iter().find(|f| field(f, 2).parse() == Ok(gid)).map(|f| field(f, 0).to_string()))
            .unwrap_or_else(|| gid.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_users_and_sees_a_change() {
        let dir = crate::test_dir::TestDir::new("users");
        std::fs::write(dir.join("passwd"), "root:x:0:0:root:/root:/bin/sh\n# comment\n").unwrap();
        std::fs::write(dir.join("group"), "root:x:0:\nstaff:x:50:\n").unwrap();
        let db = UserDb::new(dir.to_str().unwrap());
        assert_eq!(db.by_name("root").unwrap().home, "/root");
        assert!(db.by_name("user").is_none());
        assert_eq!(db.group_name(50), "staff");
        assert_eq!(db.group_name(7), "7");
        std::fs::write(dir.join("passwd"), "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:\n").unwrap();
        let user = db.by_name("user").unwrap();
        assert_eq!((user.uid, user.gid, user.shell.as_str()), (1000, 1000, "/bin/sh"));
        assert_eq!(db.user_name(1000), "user");
    }
}
