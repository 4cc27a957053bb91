//! User metadata on files (envd 0.6.2, src/guest/filesystem/metadata.ts): `X-Metadata-<key>`
//! headers on POST /files are kept as the file's `user.e2b.<key>` extended attributes and
//! returned in every EntryInfo. envd's rules: keys lowercased, printable US-ASCII keys and values,
//! a name of at most 255 bytes with the prefix, 4 KiB for all of a file's metadata, and a write
//! that replaces the whole set. A file system without user xattrs keeps the file and drops its
//! metadata, as envd does. Every call here is an l*xattr one: callers pass the resolved path.
use std::collections::BTreeMap;
use std::ffi::CString;
use std::io;

use crate::error::{Code, GuestError, GuestResult};

pub type Metadata = BTreeMap<String, String>;

const METADATA_HEADER_PREFIX: &str = "x-metadata-";
const XATTR_PREFIX: &str = "user.e2b.";
/// Linux caps an xattr name at 255 bytes, the prefix included.
const MAX_KEY_BYTES: usize = 255 - XATTR_PREFIX.len();
/// All of one file's metadata (names with the prefix, plus values): ext4 keeps a file's xattrs in one 4 KiB block.
const MAX_TOTAL_BYTES: usize = 4096;

/// The metadata in a request's headers: keys lowercased, the first value of a repeated header.
pub fn metadata_from_headers(headers: &http::HeaderMap) -> Metadata {
    let mut out = Metadata::new();
    for name in headers.keys() {
        // http lowercases header names already.
        let Some(key) = name.as_str().strip_prefix(METADATA_HEADER_PREFIX) else { continue };
        if key.is_empty() {
            continue;
        }
        let value = headers.get(name).map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned()).unwrap_or_default();
        out.insert(key.to_string(), value);
    }
    out
}

fn printable_ascii(s: &str) -> bool {
    s.bytes().all(|b| (0x20..=0x7e).contains(&b))
}

/// invalid_argument (400 on POST /files) naming the first rule `md` breaks.
pub fn validate_metadata(md: &Metadata) -> GuestResult<()> {
    let bad = |m: String| Err(GuestError::new(Code::InvalidArgument, m));
    let mut total = 0;
    for (key, value) in md {
        if key.is_empty() {
            return bad("metadata key must not be empty".into());
        }
        if key.len() > MAX_KEY_BYTES {
            let head: String = key.chars().take(32).collect();
            return bad(format!("metadata key '{head}…' is longer than {MAX_KEY_BYTES} bytes"));
        }
        if !printable_ascii(key) {
            return bad(format!("metadata key {} must be printable US-ASCII", serde_json::to_string(key).unwrap_or_default()));
        }
        if !printable_ascii(value) {
            return bad(format!("metadata value for key '{key}' must be printable US-ASCII"));
        }
        total += XATTR_PREFIX.len() + key.len() + value.len();
    }
    if total > MAX_TOTAL_BYTES {
        return bad(format!("metadata is {total} bytes, more than {MAX_TOTAL_BYTES}"));
    }
    Ok(())
}

fn c_path(path: &str) -> io::Result<CString> {
    CString::new(path).map_err(|_| io::Error::from_raw_os_error(libc::EINVAL))
}

/// The xattr names of `path` (not following a final link).
fn list_names(path: &str) -> io::Result<Vec<String>> {
    let cpath = c_path(path)?;
    loop {
        // SAFETY: a null buffer of size 0 asks only for the size needed.
        let size = unsafe { libc::llistxattr(cpath.as_ptr(), std::ptr::null_mut(), 0) };
        if size < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut buf = vec![0u8; size as usize];
        // SAFETY: buf has buf.len() writable bytes.
        let got = unsafe { libc::llistxattr(cpath.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
        if got < 0 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::ERANGE) {
                continue; // grew meanwhile
            }
            return Err(err);
        }
        buf.truncate(got as usize);
        return Ok(buf.split(|b| *b == 0).filter(|n| !n.is_empty()).map(|n| String::from_utf8_lossy(n).into_owned()).collect());
    }
}

fn get_value(path: &str, name: &str) -> io::Result<Vec<u8>> {
    let (cpath, cname) = (c_path(path)?, c_path(name)?);
    loop {
        // SAFETY: a null buffer of size 0 asks only for the size needed.
        let size = unsafe { libc::lgetxattr(cpath.as_ptr(), cname.as_ptr(), std::ptr::null_mut(), 0) };
        if size < 0 {
            return Err(io::Error::last_os_error());
        }
        let mut buf = vec![0u8; size as usize];
        // SAFETY: buf has buf.len() writable bytes.
        let got = unsafe { libc::lgetxattr(cpath.as_ptr(), cname.as_ptr(), buf.as_mut_ptr().cast(), buf.len()) };
        if got < 0 {
            let err = io::Error::last_os_error();
            if err.raw_os_error() == Some(libc::ERANGE) {
                continue;
            }
            return Err(err);
        }
        buf.truncate(got as usize);
        return Ok(buf);
    }
}

fn set_value(path: &str, name: &str, value: &str) -> io::Result<()> {
    let (cpath, cname) = (c_path(path)?, c_path(name)?);
    // SAFETY: value points at value.len() readable bytes.
    let rc = unsafe { libc::lsetxattr(cpath.as_ptr(), cname.as_ptr(), value.as_ptr().cast(), value.len(), 0) };
    if rc < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

fn remove_value(path: &str, name: &str) -> io::Result<()> {
    let (cpath, cname) = (c_path(path)?, c_path(name)?);
    // SAFETY: both are NUL-terminated strings.
    let rc = unsafe { libc::lremovexattr(cpath.as_ptr(), cname.as_ptr()) };
    if rc < 0 { Err(io::Error::last_os_error()) } else { Ok(()) }
}

/// The metadata of the file at `path`; None when it has none or its file system keeps no xattrs.
/// A value that is not UTF-8 (set inside the sandbox) is left out: EntryInfo's map holds strings.
pub fn read_metadata(path: &str) -> Option<Metadata> {
    let names = list_names(path).ok()?;
    let mut out: Option<Metadata> = None;
    for name in names {
        let Some(key) = name.strip_prefix(XATTR_PREFIX) else { continue };
        let Ok(raw) = get_value(path, &name) else { continue };
        let Ok(value) = String::from_utf8(raw) else { continue };
        out.get_or_insert_with(Metadata::new).insert(key.to_string(), value);
    }
    out
}

fn unsupported(err: &io::Error) -> bool {
    err.raw_os_error() == Some(libc::EOPNOTSUPP)
}

/// Replaces the metadata of the file at `path` with `md`: keys it lacks are removed, since an
/// overwrite keeps the old file's xattrs. A file system without xattrs is no error (nothing is
/// kept, so nothing is reported back).
pub fn write_metadata(path: &str, md: &Metadata) -> GuestResult<()> {
    validate_metadata(md)?;
    let result = (|| -> io::Result<()> {
        for name in list_names(path)? {
            if name.strip_prefix(XATTR_PREFIX).is_some_and(|key| !md.contains_key(key)) {
                remove_value(path, &name)?;
            }
        }
        for (key, value) in md {
            set_value(path, &format!("{XATTR_PREFIX}{key}"), value)?;
        }
        Ok(())
    })();
    match result {
        Err(err) if !unsupported(&err) => Err(GuestError::io(&err, path)),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(pairs: &[(&str, &str)]) -> Metadata {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn metadata_rules_are_envds() {
        assert!(validate_metadata(&md(&[("author", "mish")])).is_ok());
        assert!(validate_metadata(&md(&[(&"k".repeat(MAX_KEY_BYTES), "v")])).is_ok());
        assert!(validate_metadata(&md(&[(&"k".repeat(MAX_KEY_BYTES + 1), "v")])).is_err());
        assert!(validate_metadata(&md(&[("a", &"x".repeat(2100)), ("b", &"y".repeat(2100))])).is_err());
        assert!(validate_metadata(&md(&[("a", "tab\there")])).is_err());
        assert!(validate_metadata(&md(&[("é", "v")])).is_err());
    }

    #[test]
    fn headers_give_lowercased_keys() {
        let mut h = http::HeaderMap::new();
        h.insert("X-Metadata-Author", "mish".parse().unwrap());
        h.insert("x-metadata-", "ignored".parse().unwrap());
        h.insert("x-other", "no".parse().unwrap());
        assert_eq!(metadata_from_headers(&h), md(&[("author", "mish")]));
    }

    #[test]
    fn a_write_replaces_the_set() {
        let dir = crate::test_dir::TestDir::new("md");
        let path = dir.join("file");
        std::fs::write(&path, "x").unwrap();
        let path = path.to_str().unwrap();
        if write_metadata(path, &md(&[("a", "1"), ("b", "2")])).is_ok() && read_metadata(path).is_some() {
            write_metadata(path, &md(&[("b", "3")])).unwrap();
            assert_eq!(read_metadata(path), Some(md(&[("b", "3")])));
            write_metadata(path, &Metadata::new()).unwrap();
            assert_eq!(read_metadata(path), None);
        }
    }
}
