/**
 * Sandbox and snapshot ids: the one shape every layer checks and the one generator that makes
 * them. 20 chars of [a-z0-9] (E2B's id shape): never `-` or `.`, because host routing
 * (`<port>-<id>.<domain>`) splits on them, and short enough for a DNS label.
 *
 * Imports nothing of ours outside src/api/ (docs/architecture.md, rule “api is the ground floor”).
 */
import { randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const LENGTH = 20;

/** The id's shape as a regex source, for patterns that embed it (routes, host names). */
export const SANDBOX_ID_PATTERN = `[a-z0-9]{${LENGTH}}`;
export const SANDBOX_ID_RE = new RegExp(`^${SANDBOX_ID_PATTERN}$`);
/** Engine snapshot ids: `snap-` and a sandbox-shaped id. */
export const SNAPSHOT_ID_PATTERN = `snap-${SANDBOX_ID_PATTERN}`;
export const SNAPSHOT_ID_RE = new RegExp(`^${SNAPSHOT_ID_PATTERN}$`);

/** A fresh sandbox id. */
export function newSandboxId(): string {
  let id = '';
  // 252 = 7 * 36: rejecting bytes above it keeps every character equally likely.
  while (id.length < LENGTH) for (const b of randomBytes(24)) if (b < 252 && id.length < LENGTH) id += ALPHABET[b % ALPHABET.length];
  return id;
}

export const newSnapshotId = (): string => `snap-${newSandboxId()}`;
