/**
 * The guest daemon's configuration: a JSON file whose path is in env AGENTBOX_GUEST_CONFIG,
 * written by the engine (or the Kubernetes operator) into the sandbox before it starts.
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { AgentboxError } from '../api/errors.ts';

export const DEFAULT_GUEST_PORT = 49983;

export const GuestConfigSchema = z.object({
  /** TCP port of the envd protocol; 0 picks a free one (tests), logged as "guest listening". */
  port: z.number().int().min(0).max(65535).default(DEFAULT_GUEST_PORT),
  /** Address to listen on; all interfaces by default because the host reaches the sandbox over its veth. */
  host: z.string().default('0.0.0.0'),
  /** The X-Access-Token every request must carry (except /health, /files with a signature, /init). Absent = open. */
  accessToken: z.string().min(1).optional(),
  /** Guards POST /init, the engine's channel to re-key a forked or restored sandbox. */
  initSecret: z.string().min(1),
  /** Sandbox-wide environment for the start command and every process. */
  envVars: z.record(z.string(), z.string()).default({}),
  /** OS user (from the image's /etc/passwd) for requests that name none. */
  defaultUser: z.string().min(1).default('root'),
  /** Working directory for requests that name none; the user's home when absent. */
  defaultWorkdir: z.string().optional(),
  /** The template's start command, launched once at boot and never restarted. */
  start: z.object({
    cmd: z.array(z.string()).min(1),
    cwd: z.string().optional(),
    user: z.string().optional(),
    env: z.record(z.string(), z.string()).optional(),
  }).optional(),
  /**
   * Maximum number of tasks of everything the guest starts, enforced in the sandbox's own
   * cgroupfs (gVisor; see pids-limit.ts). Absent: the host cgroup alone limits (runc).
   */
  pidsLimit: z.number().int().min(1).optional(),
  /** When set, the agent-sandbox in-pod runtime protocol is also served on this port. */
  agentSandboxRuntimePort: z.number().int().min(1).max(65535).optional(),
});

export type GuestConfig = z.output<typeof GuestConfigSchema>;
export type GuestConfigInput = z.input<typeof GuestConfigSchema>;

export function parseGuestConfig(raw: unknown): GuestConfig {
  const parsed = GuestConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new AgentboxError('invalid_argument', `guest config is invalid: ${z.prettifyError(parsed.error)}`);
  }
  return parsed.data;
}

export function loadGuestConfig(path: string): GuestConfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new AgentboxError('invalid_argument', `cannot read guest config ${path}; set AGENTBOX_GUEST_CONFIG to a readable JSON file`, { cause: err });
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new AgentboxError('invalid_argument', `guest config ${path} is not JSON`, { cause: err });
  }
  return parseGuestConfig(raw);
}
