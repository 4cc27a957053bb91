//! OpenSandbox's execd (docs/opensandbox-execd.md; src/guest/execd) on its own port beside
//! envd's: one guest process, two protocols. Its commands and sessions are processes of the
//! process service (envd's List sees them), started through its `launch`.
mod auth;
mod bash_session;
mod code_contexts;
mod code_interpreter;
mod code_run;
mod command_interrupt;
mod command_logs;
mod command_run;
mod command_status;
mod commands;
mod directories_create;
mod directories_delete;
mod directories_list;
mod env_file;
mod errors;
mod execution;
mod file_info;
mod files_delete;
mod files_download;
mod files_info;
mod files_move;
mod files_permissions;
mod files_replace;
mod files_search;
mod files_upload;
mod glob;
mod lines;
mod metrics;
mod path;
mod permissions;
mod pty_attach;
mod pty_create;
mod pty_delete;
mod pty_output;
mod pty_session;
mod pty_status;
mod request;
mod router;
mod session_create;
mod session_delete;
mod session_run;
mod shell;
mod sse;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::json;

use self::bash_session::BashSession;
use self::commands::CommandStore;
use self::pty_session::PtySession;
use crate::context::Guest;
use crate::http::serve_with;
use crate::process::Processes;

/// execd's state, shared by its handlers.
pub struct Execd {
    guest: Arc<Guest>,
    processes: Arc<Processes>,
    commands: Arc<CommandStore>,
    /// Bash sessions by id (POST /session), forgotten when their bash exits.
    sessions: Mutex<HashMap<String, Arc<BashSession>>>,
    /// PTY sessions by id (POST /pty), kept after their process exits until DELETE /pty/{id}.
    ptys: Mutex<HashMap<String, Arc<PtySession>>>,
    /// The sandbox env file (env_file.rs); None = none.
    env_file: Option<String>,
    /// Where the code interpreter of the sandbox listens (templates/code-interpreter-v1.yaml).
    code_interpreter_url: String,
}

/// Listens for execd on `host:port`; returns the bound port and the serving task.
pub async fn serve(
    guest: Arc<Guest>,
    processes: Arc<Processes>,
    env_file: Option<String>,
    code_interpreter_url: String,
    host: &str,
    port: u16,
) -> std::io::Result<(u16, tokio::task::JoinHandle<()>)> {
    if let Some(path) = &env_file {
        // A read-only image must not stop the guest: commands then run without the file.
        let owner = crate::auth::resolve_user(&guest, &guest.state(), None);
        if let Err(err) = owner.map_err(|e| e.message).and_then(|owner| env_file::prepare_env_file(path, &owner).map_err(|e| e.to_string())) {
            crate::log::error("execd env file not created", json!({ "path": path, "error": err }));
        }
    }
    let execd = Arc::new(Execd { guest, processes, commands: Arc::default(), sessions: Mutex::default(), ptys: Mutex::default(), env_file, code_interpreter_url });
    serve_with(host, port, move |req| {
        let execd = execd.clone();
        async move {
            let (parts, body) = req.into_parts();
            Ok(router::route(execd, parts, body).await)
        }
    })
    .await
}
