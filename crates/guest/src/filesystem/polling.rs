//! CreateWatcher / GetWatcherEvents / RemoveWatcher: the polling form of WatchDir.
use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};

use super::watch_events::WatchSpec;
use super::watcher::DirWatcher;
use crate::context::Guest;
use crate::error::{Code, GuestError, GuestResult};
use crate::proto::filesystem::FilesystemEvent;

/// Events kept per watcher between polls; older ones are dropped first, so a forgotten watcher
/// cannot grow without bound.
const MAX_PENDING_EVENTS: usize = 10_000;

struct PollingWatcher {
    /// Kept so the watch lives until RemoveWatcher.
    _watcher: DirWatcher,
    events: Arc<Mutex<VecDeque<FilesystemEvent>>>,
}

#[derive(Default)]
pub struct PollingWatchers {
    watchers: Mutex<HashMap<String, PollingWatcher>>,
}

/// A random version-4 UUID, as crypto.randomUUID gives.
fn random_uuid() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).expect("the OS's random source");
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let hex: String = b.iter().map(|x| format!("{x:02x}")).collect();
    format!("{}-{}-{}-{}-{}", &hex[0..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..32])
}

fn not_found(id: &str) -> GuestError {
    GuestError::new(Code::NotFound, format!("watcher '{id}' does not exist; create one with CreateWatcher"))
}

impl PollingWatchers {
    pub fn create(&self, guest: Arc<Guest>, spec: WatchSpec) -> GuestResult<String> {
        let events: Arc<Mutex<VecDeque<FilesystemEvent>>> = Arc::default();
        let sink = events.clone();
        let watcher = spec.start(guest, move |ev| {
            let mut q = sink.lock().unwrap();
            q.push_back(ev);
            if q.len() > MAX_PENDING_EVENTS {
                q.pop_front();
            }
        })?;
        let id = random_uuid();
        self.watchers.lock().unwrap().insert(id.clone(), PollingWatcher { _watcher: watcher, events });
        Ok(id)
    }

    /// The events since the last poll, in order; the queue is left empty.
    pub fn drain(&self, id: &str) -> GuestResult<Vec<FilesystemEvent>> {
        let watchers = self.watchers.lock().unwrap();
        let w = watchers.get(id).ok_or_else(|| not_found(id))?;
        Ok(w.events.lock().unwrap().drain(..).collect())
    }

    pub fn remove(&self, id: &str) -> GuestResult<()> {
        self.watchers.lock().unwrap().remove(id).map(drop).ok_or_else(|| not_found(id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4() {
        let id = random_uuid();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert!(matches!(&id[19..20], "8" | "9" | "a" | "b"));
        assert_ne!(id, random_uuid());
    }
}
