/**
 * Live resource use of running sandboxes (`GET /v1/sandboxes/{id}/usage`, SandboxUsage in
 * src/api/native.ts). Memory and pids are shown as read; CPU% needs two reads (src/api/usage.ts),
 * so the first read of a sandbox has none yet.
 */
import { html, type TemplateResult } from 'lit-html';
import type { z } from 'zod';
import type { SandboxUsage } from '../api/native.ts';
import { cpuPercent, type CpuRead } from '../api/usage.ts';
import { ApiError, json } from './api.ts';
import { bytes } from './format.ts';

/** The answers of a sandbox that stopped running between the list and its usage read. */
const GONE_FROM_RUNNING = new Set(['conflict', 'not_found', 'sandbox_ended']);

export interface LiveUsage { cpuPercent: number | undefined; memoryBytes: number; pids: number }

/**
 * Reads the usage of the given running sandboxes, keeping each one's last read for its CPU%.
 * A sandbox not asked for any more (paused, gone) is forgotten, so a resumed one starts afresh.
 */
export function usageReader(): (runningIds: string[]) => Promise<Map<string, LiveUsage>> {
  let last = new Map<string, CpuRead>();
  return async (ids) => {
    const read = await Promise.all(ids.map(async (id) => {
      try {
        const u = await json<z.infer<typeof SandboxUsage>>('GET', `/v1/sandboxes/${id}/usage`);
        return [id, u, performance.now()] as const;
      } catch (err) {
        // Paused or killed between the list and this read: it just has no figures this time.
        if (err instanceof ApiError && GONE_FROM_RUNNING.has(err.code)) return undefined;
        throw err;
      }
    }));
    const next = new Map<string, CpuRead>();
    const usage = new Map<string, LiveUsage>();
    for (const r of read) {
      if (!r) continue;
      const [id, u, atMs] = r;
      const sample = { cpuNanos: u.cpuNanos, atMs };
      const before = last.get(id);
      next.set(id, sample);
      usage.set(id, { cpuPercent: before && cpuPercent(before, sample), memoryBytes: u.memoryBytes, pids: u.pids });
    }
    last = next;
    return usage;
  };
}

/** The figures as the list and the sandbox page show them; nothing for a sandbox without them. */
export function usageFigures(u: LiveUsage | undefined): TemplateResult | string {
  if (!u) return '';
  return html`<span class="usage" data-testid="usage">CPU <span data-usage="cpu">${u.cpuPercent === undefined ? '…' : `${u.cpuPercent.toFixed(1)}%`}</span>
    · mem <span data-usage="memory" data-bytes=${u.memoryBytes}>${bytes(u.memoryBytes)}</span>
    · <span data-usage="pids">${u.pids}</span> pids</span>`;
}
