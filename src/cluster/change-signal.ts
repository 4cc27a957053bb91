/**
 * Wakes waiters when a watched cache changes, so a create waits for its claim to become Ready on
 * watch events instead of a polling step (issue 11: "no claim waits on a fixed retry step").
 */
import { AgentboxError } from '../api/errors.ts';

export class ChangeSignal {
  private readonly waiters = new Set<() => void>();

  /** Called by the caches' event handlers. */
  readonly notify = (): void => {
    for (const w of [...this.waiters]) w();
  };

  /** Resolves with the first truthy `check()`, rechecked on every change; `deadline_exceeded` after `timeoutMs`. */
  async until<T>(what: string, check: () => T | undefined, timeoutMs: number): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const v = check();
      if (v !== undefined) return v;
      const left = deadline - Date.now();
      if (left <= 0) throw new AgentboxError('deadline_exceeded', `${what} did not happen within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const wake = () => { clearTimeout(timer); this.waiters.delete(wake); resolve(); };
        const timer = setTimeout(wake, left);
        this.waiters.add(wake);
      });
    }
  }
}
