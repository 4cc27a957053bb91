//! agentbox's guest daemon in Rust: envd's protocol inside a sandbox, as the TypeScript guest
//! (src/guest/main.ts) serves it, in a fraction of its memory (BENCHMARKS.md, twenty-sixth round).
//! Reads the config named by AGENTBOX_GUEST_CONFIG, serves until SIGTERM or SIGINT.
mod auth;
mod config;
mod context;
mod error;
mod execd;
mod filesystem;
mod http;
mod log;
mod pids_limit;
mod process;
#[cfg(test)]
mod test_dir;
mod users;

pub mod proto {
    connectrpc::include_generated!();
}

use std::sync::{Arc, RwLock};
use std::time::Duration;

use serde_json::json;

use crate::config::GuestConfig;
use crate::context::{Guest, GuestState};
use crate::users::UserDb;

fn main() {
    let Ok(path) = std::env::var("AGENTBOX_GUEST_CONFIG") else {
        log::error("AGENTBOX_GUEST_CONFIG is not set; it must name the guest config JSON file", json!({}));
        std::process::exit(2);
    };
    let config = match GuestConfig::load(&path) {
        Ok(config) => config,
        Err(message) => {
            log::error(&message, json!({}));
            std::process::exit(2);
        }
    };
    // One thread: a sandbox's guest serves one client at a time, and every thread costs the
    // sandbox memory under gVisor (BENCHMARKS.md, twenty-sixth round).
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a tokio runtime");
    runtime.block_on(run(config));
}

/// How long a stopping guest waits for its processes to end after passing SIGTERM on; once the
/// guest exits, the sandbox's init does and everything left is killed.
const STOP_GRACE: Duration = Duration::from_secs(1);

async fn run(config: GuestConfig) {
    let guest = Arc::new(Guest {
        state: RwLock::new(GuestState {
            access_token: config.access_token.clone(),
            env_vars: config.env_vars.clone(),
            default_user: config.default_user.clone(),
            default_workdir: config.default_workdir.clone(),
        }),
        users: UserDb::new("/etc"),
        init_secret: RwLock::new(config.init_secret.clone()),
        metrics: http::metrics::Metrics::new(),
    });
    if let Some(limit) = config.pids_limit {
        // Before any process starts, so that every one is counted.
        pids_limit::confine_pids(limit, std::path::Path::new(pids_limit::PIDS_ROOT));
    }
    let processes = match process::Processes::new(guest.clone(), config.start.is_some()) {
        Ok(processes) => processes,
        Err(err) => {
            log::error("cannot watch for child processes (SIGCHLD)", json!({ "error": err.to_string() }));
            std::process::exit(1);
        }
    };
    let execd = match config.execd_port {
        Some(execd_port) => match execd::serve(guest.clone(), processes.clone(), config.execd_env_file.clone(), config.code_interpreter_url.clone(), &config.host, execd_port).await {
            Ok((port, task)) => {
                log::info("execd listening", json!({ "host": config.host, "port": port }));
                Some(task)
            }
            Err(err) => {
                log::error("cannot listen for execd", json!({ "host": config.host, "port": execd_port, "error": err.to_string() }));
                std::process::exit(1);
            }
        },
        None => None,
    };
    let (port, server) = match http::serve(guest, processes.clone(), &config.host, config.port).await {
        Ok(bound) => bound,
        Err(err) => {
            log::error("cannot listen", json!({ "host": config.host, "port": config.port, "error": err.to_string() }));
            std::process::exit(1);
        }
    };
    log::info("guest listening", json!({ "host": config.host, "port": port }));
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("a SIGTERM handler");
    if let Some(start) = &config.start {
        process::start_command::run(&processes, start);
    }
    let signal = tokio::select! {
        _ = term.recv() => "SIGTERM",
        _ = tokio::signal::ctrl_c() => "SIGINT",
    };
    log::info("guest stopping", json!({ "signal": signal }));
    processes.terminate_all(STOP_GRACE).await;
    server.abort();
    if let Some(execd) = execd {
        execd.abort();
    }
}
