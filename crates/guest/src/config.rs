//! The guest's configuration: the JSON file named by env AGENTBOX_GUEST_CONFIG, written by the
//! engine or the operator before the sandbox starts. The schema is the TypeScript guest's
//! (src/guest/config.ts, GuestConfigSchema); fields this guest does not serve yet are accepted
//! and ignored, as zod's object does with unknown keys.
use std::collections::BTreeMap;

use serde::Deserialize;

/// envd's port (src/api/envd-protocol.ts, GUEST_PORT).
pub const GUEST_PORT: u16 = 49983;

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GuestConfig {
    /// TCP port of the envd protocol; 0 picks a free one (tests), logged as "guest listening".
    #[serde(default = "default_port")]
    pub port: u16,
    /// All interfaces by default: the host reaches the sandbox over its veth.
    #[serde(default = "default_host")]
    pub host: String,
    /// The X-Access-Token every request must carry (except /health, signed /files, /init).
    pub access_token: Option<String>,
    /// Guards POST /init, the engine's channel to re-key a forked or restored sandbox.
    pub init_secret: String,
    /// Sandbox-wide environment for the start command and every process.
    #[serde(default)]
    pub env_vars: BTreeMap<String, String>,
    /// OS user for requests that name none.
    #[serde(default = "default_user")]
    pub default_user: String,
    /// Working directory for requests that name none; the user's home when absent.
    pub default_workdir: Option<String>,
    /// The template's start command, launched once at boot and never restarted.
    pub start: Option<StartConfig>,
    /// Most tasks everything the guest starts may have, kept in the sandbox's own cgroupfs
    /// (gVisor; pids_limit.rs). None: the host cgroup alone limits (runc).
    pub pids_limit: Option<u32>,
    /// TCP port of OpenSandbox's execd protocol (src/guest/execd), served by this same process;
    /// absent = not served, 0 picks a free one (tests), logged as "execd listening".
    pub execd_port: Option<u16>,
    /// execd's sandbox env file (upstream `EXECD_ENVS`; execd/env_file.rs), created empty at
    /// start; absent = none.
    pub execd_env_file: Option<String>,
    /// Where execd's code contexts find the sandbox's code interpreter (templates/code-interpreter-v1.yaml).
    #[serde(default = "default_code_interpreter_url")]
    pub code_interpreter_url: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StartConfig {
    /// The program and its arguments.
    pub cmd: Vec<String>,
    pub cwd: Option<String>,
    /// The OS user it runs as; the default user when absent.
    pub user: Option<String>,
    /// Its own variables, on top of the sandbox-wide ones.
    pub env: Option<BTreeMap<String, String>>,
    /// The start command's environment in place of the sandbox-wide `envVars` (then `env` on
    /// top). The engine gives a start command kept running in a golden snapshot the template's
    /// env only, so it is the same whether its sandbox booted or was restored with a create's env.
    pub env_vars: Option<BTreeMap<String, String>>,
}

fn default_port() -> u16 {
    GUEST_PORT
}

fn default_host() -> String {
    "0.0.0.0".into()
}

fn default_code_interpreter_url() -> String {
    "http://127.0.0.1:49999".into()
}

fn default_user() -> String {
    "root".into()
}

impl GuestConfig {
    pub fn load(path: &str) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read guest config {path} ({e}); set AGENTBOX_GUEST_CONFIG to a readable JSON file"))?;
        let config: GuestConfig = serde_json::from_str(&text).map_err(|e| format!("guest config {path} is invalid: {e}"))?;
        if config.init_secret.is_empty() {
            return Err(format!("guest config {path} is invalid: initSecret must not be empty"));
        }
        if config.access_token.as_deref() == Some("") || config.default_user.is_empty() {
            return Err(format!("guest config {path} is invalid: accessToken and defaultUser must not be empty"));
        }
        if config.start.as_ref().is_some_and(|s| s.cmd.is_empty()) {
            return Err(format!("guest config {path} is invalid: start.cmd must name a program"));
        }
        if config.execd_env_file.as_deref() == Some("") {
            return Err(format!("guest config {path} is invalid: execdEnvFile must not be empty"));
        }
        if config.pids_limit == Some(0) {
            return Err(format!("guest config {path} is invalid: pidsLimit must be at least 1"));
        }
        Ok(config)
    }
}
