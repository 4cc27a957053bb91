//! OpenSandbox's sandbox env file (upstream execd's `EXECD_ENVS`; src/guest/execd/env-file.ts):
//! `KEY=VALUE` lines that every command and session starts with. The Python SDK's
//! `commands.set_env` appends to the file that `$EXECD_ENVS` names inside the sandbox, so
//! commands see that variable and the file is made writable by the sandbox's default user.
use std::collections::BTreeMap;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::users::OsUser;

pub const ENV_FILE_VARIABLE: &str = "EXECD_ENVS";

/// Creates the (empty) file for `owner` unless it exists.
pub fn prepare_env_file(path: &str, owner: &OsUser) -> std::io::Result<()> {
    let path = Path::new(path);
    if path.exists() {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    std::fs::OpenOptions::new().write(true).create(true).truncate(false).mode(0o644).open(path)?;
    std::os::unix::fs::chown(path, Some(owner.uid), Some(owner.gid))
}

/// The file's variables (later lines win), plus EXECD_ENVS naming it; none when it is
/// unreadable (the user removed it). A line that is not `KEY=VALUE` is skipped, as Node's
/// parseEnv skips it.
pub fn env_file_variables(path: &str) -> BTreeMap<String, String> {
    let mut vars: BTreeMap<String, String> = std::fs::File::open(path)
        .map(|file| dotenvy::from_read_iter(file).filter_map(Result::ok).collect())
        .unwrap_or_default();
    vars.insert(ENV_FILE_VARIABLE.into(), path.into());
    vars
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_key_value_lines_and_names_the_file() {
        let dir = crate::test_dir::TestDir::new("execd-env");
        let path = dir.join(".env");
        std::fs::write(&path, "A=1\n# a comment\nexport B='two words'\nA=3\n").unwrap();
        let vars = env_file_variables(path.to_str().unwrap());
        assert_eq!(vars.get("A").map(String::as_str), Some("3"));
        assert_eq!(vars.get("B").map(String::as_str), Some("two words"));
        assert_eq!(vars.get(ENV_FILE_VARIABLE).map(String::as_str), path.to_str());
        assert_eq!(env_file_variables("/no/such/file").len(), 1);
    }
}
