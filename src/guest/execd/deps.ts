/**
 * What every execd handler receives: the process service's own deps (execd starts processes
 * through the same process factory and registry as envd's Start, so E2B's List sees them too)
 * plus execd's state. Declared apart from the router so no handler imports its registrar back.
 */
import type { ProcessDeps } from '../process/deps.ts';
import type { BashSession } from './bash-session.ts';
import type { CommandStore } from './commands.ts';
import type { PtySession } from './pty-session.ts';

export interface ExecdDeps extends ProcessDeps {
  commands: CommandStore;
  sessions: Map<string, BashSession>;
  /** PTY sessions by id (POST /pty), kept after their process exits until DELETE /pty/{id}. */
  ptys: Map<string, PtySession>;
  /** The guest's metrics sampler (shared with envd's GET /metrics). */
  metrics: () => Record<string, number>;
  /** Where the code interpreter of the sandbox listens (templates/code-interpreter-v1.yaml). */
  codeInterpreterUrl: string;
  /** The sandbox env file (env-file.ts); absent = none. */
  envFile?: string;
}
