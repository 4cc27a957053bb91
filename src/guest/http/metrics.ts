/** GET /metrics: a point-in-time snapshot of the sandbox's CPU, memory and root disk (docs/e2b.md, the guest protocol). */
import { statfsSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

interface CpuSample { idle: number; total: number }

function sampleCpu(): CpuSample {
  let idle = 0;
  let total = 0;
  for (const c of cpus()) {
    idle += c.times.idle;
    total += c.times.idle + c.times.user + c.times.nice + c.times.sys + c.times.irq;
  }
  return { idle, total };
}

function meminfo(): Record<string, number> {
  const out: Record<string, number> = {};
  try {
    for (const line of readFileSync('/proc/meminfo', 'utf8').split('\n')) {
      const m = /^(\w+):\s+(\d+)/.exec(line);
      if (m) out[m[1]!] = Number(m[2]) * 1024;
    }
  } catch { /* no /proc: report zeros */ }
  return out;
}

/** Keeps the previous CPU sample so cpu_used_pct covers the time since the last call. */
export function createMetricsReader(): () => Record<string, number> {
  let last = sampleCpu();
  return () => {
    const now = sampleCpu();
    const dt = now.total - last.total;
    const used = dt > 0 ? 100 * (1 - (now.idle - last.idle) / dt) : 0;
    last = now;
    const mem = meminfo();
    const memTotal = mem.MemTotal ?? 0;
    const memCache = (mem.Cached ?? 0) + (mem.Buffers ?? 0);
    const memUsed = Math.max(0, memTotal - (mem.MemAvailable ?? memTotal));
    let diskTotal = 0;
    let diskUsed = 0;
    try {
      const fs = statfsSync('/');
      diskTotal = fs.blocks * fs.bsize;
      diskUsed = (fs.blocks - fs.bfree) * fs.bsize;
    } catch { /* report zeros */ }
    return {
      ts: Math.floor(Date.now() / 1000),
      cpu_count: cpus().length,
      cpu_used_pct: Math.round(used * 100) / 100,
      mem_total: memTotal,
      mem_used: memUsed,
      mem_cache: memCache,
      mem_total_mib: Math.floor(memTotal / 1048576),
      mem_used_mib: Math.floor(memUsed / 1048576),
      disk_used: diskUsed,
      disk_total: diskTotal,
    };
  };
}
