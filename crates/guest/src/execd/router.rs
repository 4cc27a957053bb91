//! execd's routes (OpenSandbox `specs/execd-api.yaml`; src/guest/execd/router.ts), one handler
//! module each; this module only matches routes.
use std::sync::Arc;

use http::request::Parts;
use hyper::body::Incoming;
use hyper::upgrade::OnUpgrade;
use percent_encoding::percent_decode_str;

use super::Execd;
use super::auth::require_execd_token;
use super::code_contexts::{create_context, delete_contexts, delete_one_context, get_context, get_contexts};
use super::code_run::run_code;
use super::command_interrupt::interrupt_command;
use super::command_logs::command_logs;
use super::command_run::run_command;
use super::command_status::command_status;
use super::directories_create::create_directories;
use super::directories_delete::delete_directories;
use super::directories_list::list_directory;
use super::errors::{ExecdError, ExecdResult};
use super::files_delete::delete_files;
use super::files_download::download_file;
use super::files_info::files_info;
use super::files_move::move_files;
use super::files_permissions::set_permissions;
use super::files_replace::replace_contents;
use super::files_search::search_files;
use super::files_upload::upload_files;
use super::metrics::{get_metrics, watch_metrics};
use super::pty_attach::attach_pty;
use super::pty_create::create_pty;
use super::pty_delete::delete_pty;
use super::pty_status::pty_status;
use super::session_create::create_session;
use super::session_delete::delete_session;
use super::session_run::run_in_session;
use crate::error::Code;
use crate::http::query::Query;
use crate::http::respond::{self, HttpResponse};

pub async fn route(execd: Arc<Execd>, mut parts: Parts, body: Incoming) -> HttpResponse {
    // Where hyper hands over a connection that GET /pty/{id}/ws upgrades to a WebSocket.
    let upgrade = parts.extensions.remove::<OnUpgrade>();
    dispatch(&execd, &parts, body, upgrade).await.unwrap_or_else(|err| err.response())
}

async fn dispatch(execd: &Arc<Execd>, parts: &Parts, body: Incoming, upgrade: Option<OnUpgrade>) -> ExecdResult<HttpResponse> {
    let method = parts.method.as_str();
    let path = parts.uri.path();
    if (method, path) == ("GET", "/ping") {
        return Ok(respond::empty(200));
    }
    require_execd_token(&execd.guest, &parts.headers)?;
    let query = Query::parse(parts.uri.query());
    match (method, path) {
        ("POST", "/command") => return run_command(execd, body).await,
        ("DELETE", "/command") => return interrupt_command(execd, &query),
        ("POST", "/session") => return create_session(execd, body).await,
        ("POST", "/pty") => return create_pty(execd, body).await,
        ("POST", "/code/context") => return create_context(execd, body).await,
        ("GET", "/code/contexts") => return get_contexts(execd, &query).await,
        ("DELETE", "/code/contexts") => return delete_contexts(execd, &query).await,
        ("POST", "/code") => return run_code(execd, body).await,
        ("DELETE", "/code") => {
            return Err(ExecdError::new(
                Code::NotSupported,
                "interrupting code is not supported: the code interpreter has no interrupt; delete the context instead",
            ));
        }
        ("GET", "/files/info") => return files_info(execd, &query),
        ("DELETE", "/files") => return delete_files(execd, &query),
        ("POST", "/files/permissions") => return set_permissions(execd, body).await,
        ("POST", "/files/mv") => return move_files(execd, body).await,
        ("GET", "/files/search") => return search_files(execd, &query),
        ("POST", "/files/replace") => return replace_contents(execd, &query, body).await,
        ("POST", "/files/upload") => return upload_files(execd, parts, body).await,
        ("GET", "/files/download") => return download_file(execd, parts, &query),
        ("GET", "/directories/list") => return list_directory(execd, &query),
        ("POST", "/directories") => return create_directories(execd, body).await,
        ("DELETE", "/directories") => return delete_directories(execd, &query),
        ("GET", "/metrics") => return Ok(get_metrics(&execd.guest)),
        ("GET", "/metrics/watch") => return Ok(watch_metrics(execd.guest.clone())),
        _ => {}
    }
    let seg: Vec<String> = path.split('/').skip(1).map(|s| percent_decode_str(s).decode_utf8_lossy().into_owned()).collect();
    let seg: Vec<&str> = seg.iter().map(String::as_str).collect();
    match (method, seg.as_slice()) {
        ("GET", ["command", "status", id]) => command_status(execd, id),
        ("GET", ["command", id, "logs"]) => command_logs(execd, id, &query),
        ("POST", ["session", id, "run"]) => run_in_session(execd, id, body).await,
        ("DELETE", ["session", id]) => delete_session(execd, id),
        ("GET", ["pty", id]) => pty_status(execd, id),
        ("DELETE", ["pty", id]) => delete_pty(execd, id),
        ("GET", ["code", "contexts", id]) => get_context(execd, id).await,
        ("DELETE", ["code", "contexts", id]) => delete_one_context(execd, id).await,
        ("GET", ["pty", id, "ws"]) => attach_pty(execd, id, parts, &query, upgrade),
        _ => Err(ExecdError::with_code(Code::NotFound, "NOT_SUPPORTED", format!("execd has no route {method} {path}"))),
    }
}
