/**
 * Backend results → OpenSandbox wire objects (the answer schemas of src/api/opensandbox.ts).
 * What OpenSandbox reports that agentbox does not keep — the image a sandbox was asked for and
 * its entrypoint — is kept in the sandbox's metadata under OpenSandbox's reserved
 * `opensandbox.io/` prefix (callers may not set it, as on OpenSandbox) and left out of the
 * metadata shown.
 */
import type { z } from 'zod';
import { KEEP_ALIVE_ENTRYPOINT, type Sandbox, type CreateSandboxResponse } from '../../api/opensandbox.ts';
import type { SandboxDetail } from '../../server/backend.ts';
import { openSandboxState } from './translate.ts';

export const RESERVED_PREFIX = 'opensandbox.io/';
const IMAGE_KEY = `${RESERVED_PREFIX}image`;
const ENTRYPOINT_KEY = `${RESERVED_PREFIX}entrypoint`;
const POOL_KEY = `${RESERVED_PREFIX}pool`;

/** The reserved metadata a create records beside the caller's. */
export function recordedFacts(f: { image?: string; entrypoint: string[]; poolRef?: string }): Record<string, string> {
  return {
    [ENTRYPOINT_KEY]: JSON.stringify(f.entrypoint),
    ...(f.image ? { [IMAGE_KEY]: f.image } : {}),
    ...(f.poolRef ? { [POOL_KEY]: f.poolRef } : {}),
  };
}

const userMetadata = (m: Record<string, string>): Record<string, string> =>
  Object.fromEntries(Object.entries(m).filter(([k]) => !k.startsWith(RESERVED_PREFIX)));

function entrypointOf(m: Record<string, string>): string[] {
  try {
    const v: unknown = JSON.parse(m[ENTRYPOINT_KEY] ?? '');
    if (Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string')) return v;
  } catch { /* a sandbox not made through this façade: it runs its template's start command */ }
  return KEEP_ALIVE_ENTRYPOINT;
}

function statusOf(d: SandboxDetail): z.input<typeof Sandbox>['status'] {
  const at = d.state === 'paused' ? d.pausedAt : undefined;
  return {
    state: openSandboxState(d.state),
    ...(d.error ? { reason: 'SANDBOX_FAILED', message: d.error } : {}),
    ...(at ? { lastTransitionAt: at } : {}),
  };
}

export function createdView(d: SandboxDetail): z.input<typeof CreateSandboxResponse> {
  return {
    id: d.id, status: statusOf(d), metadata: userMetadata(d.metadata), entrypoint: entrypointOf(d.metadata),
    createdAt: d.createdAt, ...(d.expiresAt ? { expiresAt: d.expiresAt } : {}),
  };
}

export function sandboxView(d: SandboxDetail): z.input<typeof Sandbox> {
  const pool = d.metadata[POOL_KEY];
  return {
    ...createdView(d),
    image: { uri: d.metadata[IMAGE_KEY] ?? d.template },
    ...(pool && d.fromPool ? { allocation: { mode: 'pool' as const, poolRef: pool, state: 'allocated' as const } } : {}),
  };
}
