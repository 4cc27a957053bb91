/** Starts the engine sandbox a record describes; shared by cold creates and pool fills. */
import { randomBytes } from 'node:crypto';
import type { NetworkPolicyBody } from '../api/native.ts';
import type { CreateSandboxRequest, Engine, SandboxInfo } from '../engine/types.ts';
import type { SandboxRecord } from './sandbox-store.ts';

/**
 * `templateKey` is the engine's store key of the template the record's name resolved to
 * (server/templates.ts); the disk is the record's size (the tenant's policy decided it).
 */
export function runRecord(engine: Engine, rec: SandboxRecord, templateKey: string, env: Record<string, string>, network?: NetworkPolicyBody): Promise<SandboxInfo> {
  const req: CreateSandboxRequest = {
    template: templateKey, id: rec.id, runtime: rec.runtime, env,
    limits: { cpu: rec.cpu, memoryMiB: rec.memoryMiB, ...(rec.diskMiB !== undefined ? { diskMiB: rec.diskMiB } : {}) },
  };
  if (network) req.egress = { defaultAction: network.defaultAction, allow: network.allow, deny: network.deny };
  return engine.run(req);
}

/**
 * Sandbox ids as E2B makes them: 20 chars of [a-z0-9], never `-` or `.` (host routing
 * `<port>-<id>.<domain>` splits on them). Chosen by the server so the row exists before the
 * engine makes anything (see recovery.ts).
 */
export function newSandboxId(): string {
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let id = '';
  // 252 = 7 * 36: rejecting bytes above it keeps every character equally likely.
  while (id.length < 20) for (const b of randomBytes(24)) if (b < 252 && id.length < 20) id += alphabet[b % 36];
  return id;
}
