/**
 * Start-up reconciliation after a crash (SIGKILL at any moment). The database and
 * the engine's own on-disk state are compared once, before the API opens:
 * - a row still `creating` is a create that was never acknowledged: its engine sandbox (if any)
 *   is destroyed and the row removed;
 * - a row whose sandbox the engine still has is re-adopted with the engine's state (a paused
 *   sandbox stays resumable; timers resume because they live in the rows);
 * - a row the engine lost is marked failed, so its owner sees why instead of a silent 404;
 * - an engine sandbox with no row was never recorded, so nobody holds its id: destroyed.
 */
import { asAgentboxError } from '../api/errors.ts';
import type { Engine, SandboxInfo } from '../engine/types.ts';
import type { SandboxStore } from './sandbox-store.ts';

export interface RecoveryReport { adopted: number; removed: number; lost: number; orphans: number }

export async function recover(engine: Engine, store: SandboxStore, now: number, log: (msg: string, f?: Record<string, unknown>) => void): Promise<RecoveryReport> {
  const report: RecoveryReport = { adopted: 0, removed: 0, lost: 0, orphans: 0 };
  const byId = new Map<string, SandboxInfo>(engine.list().map((s) => [s.id, s]));
  const destroy = async (id: string) => {
    try { await engine.destroy(id); } catch (err) { if (asAgentboxError(err).code !== 'not_found') log('recovery: destroy failed', { id, error: asAgentboxError(err).message }); }
  };
  for (const rec of store.all()) {
    const info = byId.get(rec.id);
    byId.delete(rec.id);
    if (rec.state === 'creating' || (rec.pooled && info?.state !== 'running')) {
      if (info) await destroy(rec.id);
      store.delete(rec.id);
      report.removed++;
    } else if (!info || info.state === 'killed') {
      if (rec.state !== 'failed') store.update(rec.id, { state: 'failed', expiresAt: null, error: 'the engine lost this sandbox while the server was down' });
      report.lost++;
    } else if (info.state === 'failed') {
      store.update(rec.id, { state: 'failed', expiresAt: null, error: info.error ?? 'failed' });
      report.lost++;
    } else if (info.state === 'creating') {
      await destroy(rec.id);
      store.delete(rec.id);
      report.removed++;
    } else {
      // running or paused: the engine's word wins; a paused sandbox keeps no timer.
      if (info.state === 'paused' && rec.state !== 'paused') store.update(rec.id, { state: 'paused', expiresAt: null });
      // Crashed mid-resume: the engine finished it, so the timer restarts as a resume would.
      if (info.state === 'running' && rec.state !== 'running') store.update(rec.id, { state: 'running', expiresAt: rec.pooled ? null : now + rec.timeoutS * 1000 });
      report.adopted++;
    }
  }
  for (const id of byId.keys()) {
    await destroy(id);
    report.orphans++;
  }
  log('recovery done', { ...report });
  return report;
}
