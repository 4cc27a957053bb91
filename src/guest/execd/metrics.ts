/**
 * GET /metrics (one sample) and GET /metrics/watch (a sample per second, one JSON object per
 * line, until the client leaves), from the same sampler as envd's GET /metrics.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from '../http/respond.ts';
import type { ExecdDeps } from './deps.ts';

const WATCH_EVERY_MS = 1000;

function sample(deps: ExecdDeps) {
  const m = deps.metrics();
  return { cpu_count: m.cpu_count, cpu_used_pct: m.cpu_used_pct, mem_total_mib: m.mem_total_mib, mem_used_mib: m.mem_used_mib, timestamp: Date.now() };
}

export function getMetrics(deps: ExecdDeps, res: ServerResponse): void {
  sendJson(res, 200, sample(deps));
}

export function watchMetrics(deps: ExecdDeps, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson', 'Cache-Control': 'no-cache', 'X-Accel-Buffering': 'no' });
  const write = () => res.write(`${JSON.stringify(sample(deps))}\n`);
  write();
  const timer = setInterval(write, WATCH_EVERY_MS);
  res.once('close', () => clearInterval(timer));
  req.resume();
}
