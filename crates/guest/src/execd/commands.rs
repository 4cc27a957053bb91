//! execd's command table (src/guest/execd/commands.ts): every command started through /command
//! (foreground or background), by execd's id, with what `/command/status` and
//! `/command/{id}/logs` report. Exited commands are kept (the newest MAX_KEPT_EXITED) so a
//! client can read how they ended.
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use super::errors::{ExecdError, ExecdResult};
use crate::error::Code;
use crate::process::handle::{Feed, HandleEvent, ProcessHandle};

const MAX_KEPT_EXITED: usize = 256;
/// A background command's combined output is kept up to this size; beyond it, output is dropped.
const MAX_LOG_BYTES: usize = 16 << 20;

pub struct CommandRecord {
    pub id: String,
    pub content: String,
    pub handle: Arc<ProcessHandle>,
    pub started_at: SystemTime,
    pub finished_at: Mutex<Option<SystemTime>>,
    /// Combined stdout and stderr of a background command, in arrival order.
    pub log: Mutex<Vec<u8>>,
    /// Order of creation, by which the oldest exited records are dropped first.
    seq: u64,
}

#[derive(Default)]
pub struct CommandStore {
    records: Mutex<(u64, HashMap<String, Arc<CommandRecord>>)>,
}

/// execd's ids: 32 random hex digits (a UUID without dashes), as upstream's `init` event carries them.
pub fn new_execution_id() -> String {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).expect("the OS's random source");
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl CommandStore {
    /// Records a started command. `log_feed`: a background command's events, collected into its log.
    pub fn add(self: &Arc<Self>, id: &str, content: &str, handle: Arc<ProcessHandle>, log_feed: Option<Feed>) -> Arc<CommandRecord> {
        let rec = {
            let mut records = self.records.lock().unwrap();
            records.0 += 1;
            let rec = Arc::new(CommandRecord {
                id: id.into(),
                content: content.into(),
                handle,
                started_at: SystemTime::now(),
                finished_at: Mutex::new(None),
                log: Mutex::new(Vec::new()),
                seq: records.0,
            });
            records.1.insert(id.into(), rec.clone());
            rec
        };
        let (store, watched) = (self.clone(), rec.clone());
        tokio::spawn(async move {
            if let Some(Feed::Live(mut rx)) = log_feed {
                while let Some(HandleEvent::Data(_, data)) = rx.recv().await {
                    let mut log = watched.log.lock().unwrap();
                    let room = MAX_LOG_BYTES.saturating_sub(log.len());
                    log.extend_from_slice(&data[..data.len().min(room)]);
                }
            }
            watched.handle.exited().await;
            *watched.finished_at.lock().unwrap() = Some(SystemTime::now());
            store.prune();
        });
        rec
    }

    pub fn get(&self, id: &str) -> ExecdResult<Arc<CommandRecord>> {
        self.records.lock().unwrap().1.get(id).cloned().ok_or_else(|| {
            ExecdError::with_code(Code::NotFound, "RUNTIME_ERROR", format!("command '{id}' does not exist (or ended long ago)"))
        })
    }

    fn prune(&self) {
        let mut records = self.records.lock().unwrap();
        let mut exited: Vec<(u64, String)> =
            records.1.values().filter(|r| r.finished_at.lock().unwrap().is_some()).map(|r| (r.seq, r.id.clone())).collect();
        if exited.len() <= MAX_KEPT_EXITED {
            return;
        }
        exited.sort_unstable();
        for (_, id) in &exited[..exited.len() - MAX_KEPT_EXITED] {
            records.1.remove(id);
        }
    }
}
