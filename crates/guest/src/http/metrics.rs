//! GET /metrics (src/guest/http/metrics.ts): a point-in-time snapshot of the sandbox's CPU,
//! memory and root disk, with the CPU's use since the previous call (since start for the first).
use std::collections::HashMap;
use std::ffi::CString;
use std::sync::Mutex;

use serde_json::{Value, json};

#[derive(Clone, Copy, Default)]
struct CpuSample {
    idle: u64,
    total: u64,
    count: usize,
}

/// The per-CPU lines of /proc/stat summed as Node's os.cpus() times are (user, nice, sys, idle, irq).
fn sample_cpu() -> CpuSample {
    let text = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let mut s = CpuSample::default();
    for line in text.lines() {
        let mut fields = line.split_whitespace();
        let Some(name) = fields.next() else { continue };
        if !name.starts_with("cpu") || name == "cpu" {
            continue;
        }
        let v: Vec<u64> = fields.map(|f| f.parse().unwrap_or(0)).collect();
        let at = |i: usize| v.get(i).copied().unwrap_or(0);
        // user nice system idle iowait irq
        s.idle += at(3);
        s.total += at(0) + at(1) + at(2) + at(3) + at(5);
        s.count += 1;
    }
    s
}

/// /proc/meminfo in bytes; empty without /proc (the figures are then zeros).
fn meminfo() -> HashMap<String, u64> {
    let text = std::fs::read_to_string("/proc/meminfo").unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let (key, rest) = line.split_once(':')?;
            let kib: u64 = rest.split_whitespace().next()?.parse().ok()?;
            Some((key.to_string(), kib * 1024))
        })
        .collect()
}

/// (total, used) bytes of the root file system; zeros when statfs fails.
fn disk() -> (u64, u64) {
    let root = CString::new("/").expect("no NUL");
    // SAFETY: an all-zero statfs is a valid out-parameter; root is NUL-terminated.
    let mut st: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statfs(root.as_ptr(), &mut st) } < 0 {
        return (0, 0);
    }
    let bsize = st.f_bsize as u64;
    (st.f_blocks * bsize, (st.f_blocks - st.f_bfree) * bsize)
}

/// Keeps the previous CPU sample so cpu_used_pct covers the time since the last call.
pub struct Metrics {
    last: Mutex<CpuSample>,
}

impl Metrics {
    pub fn new() -> Self {
        Self { last: Mutex::new(sample_cpu()) }
    }

    pub fn snapshot(&self) -> Value {
        let now = sample_cpu();
        let last = std::mem::replace(&mut *self.last.lock().unwrap(), now);
        let dt = now.total.saturating_sub(last.total);
        let used = if dt > 0 { 100.0 * (1.0 - now.idle.saturating_sub(last.idle) as f64 / dt as f64) } else { 0.0 };
        let mem = meminfo();
        let get = |k: &str| mem.get(k).copied();
        let mem_total = get("MemTotal").unwrap_or(0);
        let mem_cache = get("Cached").unwrap_or(0) + get("Buffers").unwrap_or(0);
        let mem_used = mem_total.saturating_sub(get("MemAvailable").unwrap_or(mem_total));
        let (disk_total, disk_used) = disk();
        let ts = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        json!({
            "ts": ts,
            "cpu_count": now.count,
            "cpu_used_pct": (used * 100.0).round() / 100.0,
            "mem_total": mem_total,
            "mem_used": mem_used,
            "mem_cache": mem_cache,
            "mem_total_mib": mem_total / 1_048_576,
            "mem_used_mib": mem_used / 1_048_576,
            "disk_used": disk_used,
            "disk_total": disk_total,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_has_every_figure() {
        let m = Metrics::new();
        let s = m.snapshot();
        for k in ["ts", "cpu_count", "cpu_used_pct", "mem_total", "mem_used", "mem_cache", "mem_total_mib", "mem_used_mib", "disk_used", "disk_total"] {
            assert!(s[k].is_number(), "{k}");
        }
    }
}
