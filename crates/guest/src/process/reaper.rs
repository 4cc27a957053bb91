//! Learns how the guest's children end: on every SIGCHLD, waits (without blocking) on each
//! child the guest started and is still waiting for. Only those pids are waited on, never -1, so
//! a child started elsewhere in the guest keeps its status for its own waiter; orphans of the
//! programs are reparented to the sandbox's init (tini), which reaps them.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::oneshot;

use super::end::Exit;

pub struct Reaper {
    waiting: Mutex<HashMap<i32, oneshot::Sender<Exit>>>,
}

impl Reaper {
    /// Listens for SIGCHLD from now on; must exist before the first child does, since a child
    /// that exits while SIGCHLD has its default disposition is never announced.
    pub fn start() -> std::io::Result<Arc<Self>> {
        let mut chld = signal(SignalKind::child())?;
        let reaper = Arc::new(Self { waiting: Mutex::new(HashMap::new()) });
        let weak = Arc::downgrade(&reaper);
        tokio::spawn(async move {
            while chld.recv().await.is_some() {
                let Some(reaper) = weak.upgrade() else { return };
                reaper.reap();
            }
        });
        Ok(reaper)
    }

    /// How child `pid` ends. It is waited on at once too: it may have ended, and its SIGCHLD
    /// been handled, before it was watched.
    pub fn watch(&self, pid: i32) -> oneshot::Receiver<Exit> {
        let (tx, rx) = oneshot::channel();
        let mut waiting = self.waiting.lock().unwrap();
        match wait_nohang(pid) {
            Some(exit) => {
                let _ = tx.send(exit);
            }
            None => {
                waiting.insert(pid, tx);
            }
        }
        rx
    }

    fn reap(&self) {
        let mut waiting = self.waiting.lock().unwrap();
        let ended: Vec<(i32, Exit)> = waiting.keys().filter_map(|&pid| wait_nohang(pid).map(|exit| (pid, exit))).collect();
        for (pid, exit) in ended {
            if let Some(tx) = waiting.remove(&pid) {
                let _ = tx.send(exit);
            }
        }
    }
}

/// None while `pid` runs.
fn wait_nohang(pid: i32) -> Option<Exit> {
    loop {
        let mut status = 0;
        // SAFETY: waitpid writes the status of the guest's own child.
        match unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) } {
            0 => return None,
            n if n == pid => return Some(Exit::from_wait_status(status)),
            _ if std::io::Error::last_os_error().raw_os_error() == Some(libc::EINTR) => continue,
            // ECHILD: reaped by someone else, so how it ended is lost.
            _ => return Some(Exit::Unknown),
        }
    }
}
