/**
 * The policy file, `$AGENTBOX_HOME/policy.json` (0600): default limits and per-tenant overrides
 * (docs/security.md, "Policy and quotas"). The admin API writes it atomically; an operator may
 * also edit it by hand: every read compares the file's mtime, size and inode with what was
 * loaded (one stat, microseconds), so an edit applies at the next check without a restart.
 *
 * A file that does not parse is refused at start-up (the server would otherwise run with limits
 * nobody chose); an invalid edit while running is logged and the last valid policy stays.
 */
import { readFileSync, statSync, type Stats } from 'node:fs';
import { AgentboxError } from '../api/errors.ts';
import { PolicyDocument } from '../api/native.ts';
import { writeFileAtomic } from './atomic-file.ts';
import { emptyPolicy } from './policy.ts';

type Doc = ReturnType<typeof PolicyDocument.parse>;

export class PolicyStore {
  private doc: Doc = emptyPolicy();
  /** Identity of the file last loaded or written; undefined while there is no file. */
  private seen: string | undefined;
  /** Identity of an invalid version already reported, so it is parsed and logged once. */
  private refused: string | undefined;

  constructor(private readonly path: string, private readonly log: (msg: string, fields?: Record<string, unknown>) => void) {
    const err = this.reload();
    if (err) throw err;
  }

  /** The policy now, reloaded first when the file changed since it was read. */
  current(): Doc {
    const err = this.reload();
    if (err) this.log('policy file is invalid; the previous policy stays in force', { path: this.path, error: err.message });
    return this.doc;
  }

  /** Validates and writes a whole new document; it applies at once. */
  replace(next: Doc): Doc {
    const doc = PolicyDocument.parse(next);
    writeFileAtomic(this.path, `${JSON.stringify(doc, null, 2)}\n`);
    this.doc = doc;
    this.seen = identity(statSync(this.path));
    return doc;
  }

  /** Reloads a changed file; returns the reason when it is unreadable or invalid (the old policy stays). */
  private reload(): AgentboxError | undefined {
    let st: Stats;
    try {
      st = statSync(this.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return new AgentboxError('internal', `cannot stat ${this.path}: ${(err as Error).message}`);
      if (this.seen !== undefined) { this.doc = emptyPolicy(); this.seen = undefined; }
      return undefined;
    }
    const id = identity(st);
    if (id === this.seen || id === this.refused) return undefined;
    const parsed = parse(this.path);
    if (parsed instanceof AgentboxError) {
      this.refused = id;
      return parsed;
    }
    this.doc = parsed;
    this.seen = id;
    return undefined;
  }
}

function parse(path: string): Doc | AgentboxError {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    return new AgentboxError('invalid_argument', `${path} is not valid JSON: ${(err as Error).message}`);
  }
  const parsed = PolicyDocument.safeParse(raw);
  if (parsed.success) return parsed.data;
  const i = parsed.error.issues[0];
  return new AgentboxError('invalid_argument', `${path}: ${i?.path.join('.') || '(root)'}: ${i?.message}; fix the file (see docs/security.md, "Policy and quotas")`);
}

const identity = (st: Stats) => `${st.ino}:${st.size}:${st.mtimeMs}`;
