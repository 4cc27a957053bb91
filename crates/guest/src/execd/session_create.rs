//! POST /session (src/guest/execd/session-create.ts): starts a persistent bash (sh in images
//! without it) as the sandbox's default user; `{session_id}`. The session is forgotten when its
//! bash exits.
use std::sync::Arc;

use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::json;

use super::Execd;
use super::bash_session::BashSession;
use super::commands::new_execution_id;
use super::errors::ExecdResult;
use super::request::read_body;
use super::shell::{ShellLaunch, command_user, launch_shell, shell_path};
use crate::http::respond::{self, HttpResponse};

#[derive(Deserialize)]
struct CreateSession {
    cwd: Option<String>,
}

pub async fn create_session(execd: &Arc<Execd>, body: Incoming) -> ExecdResult<HttpResponse> {
    let body: CreateSession = read_body(body).await?;
    let id = new_execution_id();
    let args = if shell_path().ends_with("bash") { vec!["--noprofile".into(), "--norc".into()] } else { vec!["-s".into()] };
    let launch = ShellLaunch {
        args,
        user: command_user(execd, None, None)?,
        cwd: body.cwd,
        envs: Default::default(),
        stdin: true,
        pty: None,
        tag: format!("session-{id}"),
    };
    // Runs subscribe to the bash's output themselves; between runs nobody reads it.
    let (bash, _feed) = launch_shell(execd, launch)?;
    execd.sessions.lock().unwrap().insert(id.clone(), Arc::new(BashSession::new(id.clone(), bash.clone())));
    let (sessions, gone) = (execd.clone(), id.clone());
    tokio::spawn(async move {
        bash.exited().await;
        sessions.sessions.lock().unwrap().remove(&gone);
    });
    Ok(respond::json(200, &json!({ "session_id": id })))
}
