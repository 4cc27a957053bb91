//! A process's environment and working directory (src/guest/process/start.ts, processEnv and
//! processCwd; node-pty's additions for a terminal).
use std::collections::BTreeMap;

use crate::auth::user_path;
use crate::context::GuestState;
use crate::error::{Code, GuestError, GuestResult};
use crate::users::OsUser;

const DEFAULT_PATH: &str = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// What node-pty names the terminal when the environment names none.
const DEFAULT_TERM: &str = "xterm-256color";

/// PATH, HOME, USER, LOGNAME, then the sandbox-wide env, then the request's own (later wins).
pub fn process_env<'a>(
    sandbox_env: &BTreeMap<String, String>,
    user: &OsUser,
    envs: impl IntoIterator<Item = (&'a String, &'a String)>,
) -> BTreeMap<String, String> {
    let mut env = BTreeMap::from([
        ("PATH".to_string(), DEFAULT_PATH.to_string()),
        ("HOME".to_string(), user.home.clone()),
        ("USER".to_string(), user.name.clone()),
        ("LOGNAME".to_string(), user.name.clone()),
    ]);
    env.extend(sandbox_env.iter().map(|(k, v)| (k.clone(), v.clone())));
    env.extend(envs.into_iter().map(|(k, v)| (k.clone(), v.clone())));
    env
}

/// What node-pty adds for a PTY process, which the TypeScript guest's PTY processes therefore
/// see: PWD, and TERM unless the environment names one.
pub fn add_terminal_env(env: &mut BTreeMap<String, String>, cwd: &str) {
    env.insert("PWD".into(), cwd.into());
    env.entry("TERM".into()).or_insert_with(|| DEFAULT_TERM.into());
}

/// The request's cwd (must be an existing directory), else the default workdir or the home,
/// else `/` when that is missing (a user whose home was never made).
pub fn process_cwd(state: &GuestState, user: &OsUser, cwd: Option<&str>) -> GuestResult<String> {
    if let Some(cwd) = cwd.filter(|c| !c.is_empty()) {
        let dir = user_path(state, user, cwd);
        if !is_dir(&dir) {
            return Err(GuestError::new(Code::InvalidArgument, format!("cwd '{dir}' is not an existing directory")));
        }
        return Ok(dir);
    }
    let fallback = state.default_workdir.as_deref().unwrap_or(&user.home);
    Ok(if is_dir(fallback) { fallback.to_string() } else { "/".to_string() })
}

fn is_dir(path: &str) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user() -> OsUser {
        OsUser { name: "u".into(), uid: 1, gid: 1, home: "/home/u".into(), shell: "/bin/sh".into() }
    }

    #[test]
    fn env_layers_in_order_later_wins() {
        let sandbox = BTreeMap::from([("SANDBOX_WIDE".to_string(), "yes".to_string()), ("HOME".to_string(), "/h".to_string())]);
        let request = BTreeMap::from([("SANDBOX_WIDE".to_string(), "overridden".to_string()), ("MINE".to_string(), "x".to_string())]);
        let env = process_env(&sandbox, &user(), &request);
        assert_eq!(env["PATH"], DEFAULT_PATH);
        assert_eq!(env["HOME"], "/h");
        assert_eq!((env["USER"].as_str(), env["LOGNAME"].as_str()), ("u", "u"));
        assert_eq!(env["SANDBOX_WIDE"], "overridden");
        assert_eq!(env["MINE"], "x");
        assert_eq!(env.len(), 6);
    }

    #[test]
    fn terminal_env_keeps_a_given_term() {
        let mut env = BTreeMap::new();
        add_terminal_env(&mut env, "/w");
        assert_eq!((env["PWD"].as_str(), env["TERM"].as_str()), ("/w", DEFAULT_TERM));
        let mut env = BTreeMap::from([("TERM".to_string(), "dumb".to_string())]);
        add_terminal_env(&mut env, "/");
        assert_eq!(env["TERM"], "dumb");
    }

    #[test]
    fn cwd_falls_back_and_must_exist() {
        let state = GuestState { access_token: None, env_vars: BTreeMap::new(), default_user: "root".into(), default_workdir: None };
        assert_eq!(process_cwd(&state, &user(), None).unwrap(), "/");
        assert_eq!(process_cwd(&state, &user(), Some("")).unwrap(), "/");
        assert_eq!(process_cwd(&state, &user(), Some("/tmp/../tmp")).unwrap(), "/tmp");
        assert_eq!(process_cwd(&state, &user(), Some("/no/such/dir")).unwrap_err().code, Code::InvalidArgument);
        let state = GuestState { default_workdir: Some("/tmp".into()), ..state };
        assert_eq!(process_cwd(&state, &user(), None).unwrap(), "/tmp");
        assert_eq!(process_cwd(&state, &user(), Some("~")).unwrap_err().message, "cwd '/home/u' is not an existing directory");
    }
}
