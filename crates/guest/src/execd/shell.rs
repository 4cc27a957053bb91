//! Starting a shell line for execd (src/guest/execd/shell.ts): `bash -c` (plain `sh` in images
//! without bash, as upstream), through the process service's launch, so it runs in its own
//! process group with the guest's environment rules and appears in envd's process list.
use std::collections::BTreeMap;
use std::sync::Arc;

use super::Execd;
use super::env_file::env_file_variables;
use super::errors::{ExecdError, ExecdResult};
use crate::auth::resolve_user;
use crate::error::Code;
use crate::process::handle::{Feed, ProcessHandle, ProcessSpec};
use crate::process::launch::{LaunchRequest, launch};
use crate::users::OsUser;

pub fn shell_path() -> &'static str {
    if std::path::Path::new("/bin/bash").exists() { "/bin/bash" } else { "/bin/sh" }
}

/// The user a command runs as: the sandbox's default user, or the one with `uid` (a uid the
/// image does not name runs with `/` as home); `gid` overrides the group.
pub fn command_user(execd: &Execd, uid: Option<u32>, gid: Option<u32>) -> ExecdResult<OsUser> {
    if gid.is_some() && uid.is_none() {
        return Err(ExecdError::new(Code::InvalidArgument, "gid requires uid"));
    }
    let guest = &execd.guest;
    let base = match uid {
        None => resolve_user(guest, &guest.state(), None)?,
        Some(uid) => guest.users.by_uid(uid).unwrap_or_else(|| OsUser {
            name: uid.to_string(),
            uid,
            gid: uid,
            home: "/".into(),
            shell: "/bin/sh".into(),
        }),
    };
    Ok(OsUser { gid: gid.unwrap_or(base.gid), ..base })
}

pub struct ShellLaunch {
    pub args: Vec<String>,
    pub user: OsUser,
    pub cwd: Option<String>,
    pub envs: BTreeMap<String, String>,
    /// Keep stdin open (a bash session reads its commands from it).
    pub stdin: bool,
    /// Run on a pseudo-terminal of (cols, rows) instead of pipes (a PTY session, pty_session.rs).
    pub pty: Option<(u16, u16)>,
    pub tag: String,
}

/// Starts the shell with the sandbox env file's variables under the request's own `envs`.
pub fn launch_shell(execd: &Execd, l: ShellLaunch) -> ExecdResult<(Arc<ProcessHandle>, Feed)> {
    let mut envs = execd.env_file.as_deref().map(env_file_variables).unwrap_or_default();
    envs.extend(l.envs);
    let state = execd.guest.state();
    let spec = ProcessSpec { cmd: shell_path().into(), args: l.args, envs, cwd: l.cwd };
    let req = LaunchRequest { spec, pty: l.pty, tag: Some(l.tag), stdin: l.stdin };
    Ok(launch(&execd.processes, &state, &l.user, req, &state.env_vars)?)
}
