/**
 * What every guest handler is given (docs/architecture.md, rule “wired by hand at the root”: wired by hand in server.ts, no globals).
 */
import type { GuestLog } from './log.ts';
import type { UserDb } from './users.ts';

/** Settings that POST /init may change while the guest runs (fork / restore re-keying). */
export interface GuestState {
  /** Undefined = requests need no X-Access-Token. */
  accessToken?: string;
  envVars: Record<string, string>;
  defaultUser: string;
  defaultWorkdir?: string;
}

export interface GuestContext {
  state: GuestState;
  users: UserDb;
  log: GuestLog;
}
