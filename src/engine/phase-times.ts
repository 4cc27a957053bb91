/**
 * Wall-clock time of the steps of one engine operation (create, boot, pause, resume), so a
 * benchmark or an operator can see where a cold start or a pause spends its time (issue #13).
 * Steps that run concurrently each get their own span; `total` is the whole operation.
 */
export type PhaseReport = (op: string, id: string, phases: Record<string, number>) => void;

export class PhaseTimes {
  private readonly startedAt = performance.now();
  private readonly phases: Record<string, number> = {};

  constructor(private readonly op: string, private readonly id: string, private readonly report: PhaseReport | undefined) {}

  /** Runs `fn` and adds its duration to the phase `name`. */
  async time<T>(name: string, fn: () => Promise<T>): Promise<T> {
    if (!this.report) return fn();
    const t0 = performance.now();
    try {
      return await fn();
    } finally {
      this.phases[name] = (this.phases[name] ?? 0) + performance.now() - t0;
    }
  }

  /** Hands the phases to the report, once the operation succeeded. */
  done(): void {
    this.report?.(this.op, this.id, { ...this.phases, total: performance.now() - this.startedAt });
  }
}
