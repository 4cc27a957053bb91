//! The process service's shared state (src/guest/process/registry.ts): live processes, in the
//! order they started, plus recently exited ones so a late Connect still gets its `end`.
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::handle::ProcessHandle;
use crate::error::{Code, GuestError, GuestResult};

/// How long and how many exited processes stay attachable.
const RETAIN_EXITED: Duration = Duration::from_secs(5 * 60);
const RETAIN_EXITED_MAX: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Selector {
    Pid(u32),
    Tag(String),
}

impl Selector {
    fn matches(&self, handle: &ProcessHandle) -> bool {
        match self {
            Selector::Pid(pid) => handle.pid as u32 == *pid,
            Selector::Tag(tag) => handle.tag.as_deref() == Some(tag),
        }
    }
}

#[derive(Default)]
pub struct Registry {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    live: Vec<Arc<ProcessHandle>>,
    /// Oldest first, with when each ended.
    exited: VecDeque<(Instant, Arc<ProcessHandle>)>,
}

impl Registry {
    pub fn add(&self, handle: Arc<ProcessHandle>) {
        self.inner.lock().unwrap().live.push(handle);
    }

    pub fn running(&self) -> Vec<Arc<ProcessHandle>> {
        self.inner.lock().unwrap().live.clone()
    }

    /// A live process, else the latest exited one, else not_found.
    pub fn find(&self, sel: &Selector) -> GuestResult<Arc<ProcessHandle>> {
        let mut inner = self.inner.lock().unwrap();
        inner.prune(Instant::now());
        let found = inner.live.iter().find(|h| sel.matches(h)).or_else(|| inner.exited.iter().rev().map(|(_, h)| h).find(|h| sel.matches(h)));
        found.cloned().ok_or_else(|| {
            let what = match sel {
                Selector::Pid(pid) => format!("pid {pid}"),
                Selector::Tag(tag) => format!("tag '{tag}'"),
            };
            GuestError::new(Code::NotFound, format!("process with {what} not found"))
        })
    }

    /// Like find, but the process must still run.
    pub fn find_running(&self, sel: &Selector) -> GuestResult<Arc<ProcessHandle>> {
        let handle = self.find(sel)?;
        if handle.end().is_some() {
            return Err(GuestError::new(Code::NotFound, format!("process {} has already exited", handle.pid)));
        }
        Ok(handle)
    }

    /// Moves an ended process from the live ones to the exited ones.
    pub fn retire(&self, handle: &Arc<ProcessHandle>) {
        let mut inner = self.inner.lock().unwrap();
        inner.live.retain(|h| !Arc::ptr_eq(h, handle));
        // A pid the system gave out again replaces its earlier process.
        inner.exited.retain(|(_, h)| h.pid != handle.pid);
        let now = Instant::now();
        inner.exited.push_back((now, handle.clone()));
        inner.prune(now);
    }
}

impl Inner {
    fn prune(&mut self, now: Instant) {
        while let Some((at, _)) = self.exited.front() {
            if now.duration_since(*at) <= RETAIN_EXITED && self.exited.len() <= RETAIN_EXITED_MAX {
                break;
            }
            self.exited.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::process::end::{Exit, ProcessEnd};
    use crate::process::handle::ProcessSpec;

    fn handle(pid: i32, tag: Option<&str>) -> Arc<ProcessHandle> {
        let spec = ProcessSpec { cmd: "x".into(), args: vec![], envs: Default::default(), cwd: None };
        Arc::new(ProcessHandle::new(pid, spec, tag.map(str::to_string), None, None))
    }

    fn error(found: GuestResult<Arc<ProcessHandle>>) -> GuestError {
        found.map(|_| ()).unwrap_err()
    }

    #[test]
    fn finds_live_then_exited_by_pid_or_tag() {
        let registry = Registry::default();
        let (a, b) = (handle(10, Some("t")), handle(11, Some("t")));
        registry.add(a.clone());
        registry.add(b.clone());
        assert_eq!(registry.find(&Selector::Tag("t".into())).unwrap().pid, 10);
        a.finish(ProcessEnd::of(Exit::Code(0)));
        registry.retire(&a);
        assert_eq!(registry.find(&Selector::Tag("t".into())).unwrap().pid, 11);
        assert_eq!(registry.find(&Selector::Pid(10)).unwrap().pid, 10);
        assert_eq!(error(registry.find_running(&Selector::Pid(10))).message, "process 10 has already exited");
        assert_eq!(error(registry.find(&Selector::Tag("u".into()))).message, "process with tag 'u' not found");
        assert_eq!(error(registry.find(&Selector::Pid(9))).code, Code::NotFound);
        assert_eq!(registry.running().len(), 1);
    }

    #[test]
    fn keeps_a_bounded_number_of_exited() {
        let registry = Registry::default();
        for pid in 0..(RETAIN_EXITED_MAX as i32 + 5) {
            let h = handle(pid, None);
            registry.add(h.clone());
            registry.retire(&h);
        }
        assert!(registry.find(&Selector::Pid(4)).is_err());
        assert!(registry.find(&Selector::Pid(5)).is_ok());
    }
}
