/**
 * The guest daemon's configuration: a JSON file whose path is in env AGENTBOX_GUEST_CONFIG,
 * written by the engine (or the Kubernetes operator) into the sandbox before it starts.
 */
import { readFileSync } from 'node:fs';
// zod/mini, not zod: the full build is 750 KB of a 1.2 MB guest bundle and costs ~200 ms of
// every sandbox's cold start under gVisor; the mini build tree-shakes to what is used.
import * as z from 'zod/mini';
import { GUEST_PORT } from '../api/envd-protocol.ts';
import { AgentboxError } from '../api/errors.ts';


export const GuestConfigSchema = z.object({
  /** TCP port of the envd protocol; 0 picks a free one (tests), logged as "guest listening". */
  port: z._default(z.int().check(z.minimum(0), z.maximum(65535)), GUEST_PORT),
  /**
   * TCP port of OpenSandbox's execd protocol (src/guest/execd), served by this same process;
   * absent = not served, 0 picks a free one (tests), logged as "execd listening".
   */
  execdPort: z.optional(z.int().check(z.minimum(0), z.maximum(65535))),
  /**
   * execd's sandbox env file (upstream `EXECD_ENVS`; src/guest/execd/env-file.ts), created empty
   * for the default user at start; absent = none.
   */
  execdEnvFile: z.optional(z.string().check(z.minLength(1))),
  /** Where execd's code contexts find the sandbox's code interpreter (templates/code-interpreter-v1.yaml). */
  codeInterpreterUrl: z._default(z.string(), 'http://127.0.0.1:49999'),
  /** Address to listen on; all interfaces by default because the host reaches the sandbox over its veth. */
  host: z._default(z.string(), '0.0.0.0'),
  /** The X-Access-Token every request must carry (except /health, /files with a signature, /init). Absent = open. */
  accessToken: z.optional(z.string().check(z.minLength(1))),
  /** Guards POST /init, the engine's channel to re-key a forked or restored sandbox. */
  initSecret: z.string().check(z.minLength(1)),
  /** Sandbox-wide environment for the start command and every process. */
  envVars: z._default(z.record(z.string(), z.string()), {}),
  /** OS user (from the image's /etc/passwd) for requests that name none. */
  defaultUser: z._default(z.string().check(z.minLength(1)), 'root'),
  /** Working directory for requests that name none; the user's home when absent. */
  defaultWorkdir: z.optional(z.string()),
  /** The template's start command, launched once at boot and never restarted. */
  start: z.optional(z.object({
    cmd: z.array(z.string()).check(z.minLength(1)),
    cwd: z.optional(z.string()),
    user: z.optional(z.string()),
    env: z.optional(z.record(z.string(), z.string())),
    /**
     * The start command's environment in place of the sandbox-wide `envVars` (then `env` on
     * top). The engine gives a start command kept running in a golden snapshot the template's
     * env only, so it is the same whether its sandbox booted or was restored with a create's env.
     */
    envVars: z.optional(z.record(z.string(), z.string())),
  })),
  /**
   * Maximum number of tasks of everything the guest starts, enforced in the sandbox's own
   * cgroupfs (gVisor; see pids-limit.ts). Absent: the host cgroup alone limits (runc).
   */
  pidsLimit: z.optional(z.int().check(z.minimum(1))),
  /** When set, the agent-sandbox in-pod runtime protocol is also served on this port. */
  agentSandboxRuntimePort: z.optional(z.int().check(z.minimum(1), z.maximum(65535))),
});

export type GuestConfig = z.output<typeof GuestConfigSchema>;
export type GuestConfigInput = z.input<typeof GuestConfigSchema>;

export function parseGuestConfig(raw: unknown): GuestConfig {
  const parsed = GuestConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new AgentboxError('invalid_argument', `guest config is invalid: ${describeIssues(parsed.error)}`);
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

/** One line per problem, `path: message`. */
export function describeIssues(error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): string {
  return error.issues.map((i) => `${i.path.map(String).join('.') || '(root)'}: ${i.message}`).join('; ');
}
