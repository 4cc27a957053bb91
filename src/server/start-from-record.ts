/** Starts the engine sandbox a stored record describes; shared by cold creates and pool fills. */
import type { NetworkPolicyBody } from '../api/native.ts';
import type { CreateSandboxRequest, Engine, SandboxInfo, VolumeMount } from '../engine/types.ts';
import type { SandboxRecord } from './sandbox-store.ts';

/**
 * `templateKey` is the engine's store key of the template the record's name resolved to
 * (server/templates.ts); the disk is the record's size (the tenant's policy decided it).
 * The record's id was chosen by the server (src/api/ids.ts) so the row exists before the
 * engine makes anything (see recovery.ts).
 */
export function startFromRecord(engine: Engine, rec: SandboxRecord, templateKey: string, env: Record<string, string>, network?: NetworkPolicyBody, volumes: VolumeMount[] = []): Promise<SandboxInfo> {
  const req: CreateSandboxRequest = {
    template: templateKey, id: rec.id, runtime: rec.runtime, env, ...(volumes.length > 0 ? { volumes } : {}),
    limits: { cpu: rec.cpu, memoryMiB: rec.memoryMiB, ...(rec.diskMiB !== undefined ? { diskMiB: rec.diskMiB } : {}) },
  };
  if (network) req.egress = { defaultAction: network.defaultAction, allow: network.allow, deny: network.deny };
  return engine.run(req);
}
