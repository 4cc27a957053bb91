/** Service results → native API bodies. */
import type { SandboxView } from '../api/native.ts';
import type { SandboxDetail } from '../server/service.ts';

export function sandboxView({ record: r, info }: SandboxDetail): SandboxView {
  const v: SandboxView = {
    id: r.id, template: r.template, runtime: r.runtime, state: r.state, metadata: r.metadata,
    createdAt: new Date(r.createdAt).toISOString(), timeoutSeconds: r.timeoutS, onTimeout: r.onTimeout,
    autoResume: r.autoResume, cpu: r.cpu, memoryMiB: r.memoryMiB, fromPool: r.fromPool,
  };
  if (r.expiresAt !== null) v.expiresAt = new Date(r.expiresAt).toISOString();
  if (info) {
    v.envdVersion = info.guest.envdVersion;
    v.diskMiB = info.limits.diskMiB;
    if (info.disk) v.disk = { ...info.disk };
  }
  if (r.error) v.error = r.error;
  return v;
}
