/** Backend results → native API bodies. */
import type { SandboxView } from '../api/native.ts';
import type { SandboxDetail } from '../server/backend.ts';

export function sandboxView(d: SandboxDetail): SandboxView {
  const v: SandboxView = {
    id: d.id, template: d.template, runtime: d.runtime, state: d.state, metadata: d.metadata,
    createdAt: d.createdAt, timeoutSeconds: d.timeoutSeconds, onTimeout: d.onTimeout,
    autoResume: d.autoResume, cpu: d.cpu, memoryMiB: d.memoryMiB, fromPool: d.fromPool,
  };
  if (d.expiresAt !== undefined) v.expiresAt = d.expiresAt;
  if (d.guest) v.envdVersion = d.guest.envdVersion;
  if (d.diskMiB !== undefined) v.diskMiB = d.diskMiB;
  if (d.disk) v.disk = { ...d.disk };
  if (d.error) v.error = d.error;
  return v;
}
