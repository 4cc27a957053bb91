// The router's record of traffic per Sandbox, for auto-suspend on idle (src/k8s/sandbox/idle.ts):
// every `everyMs` it writes `agentbox.dev/last-activity` = now on each Sandbox that had a request
// begin or end since the last write, or still has one open (a streaming command, a PTY), so a
// long-running call keeps its sandbox awake. Only Sandboxes that suspend when idle are tracked:
// the others cost no API write.
import { ANNOTATION } from '../../api/k8s/constants.ts';
import type { Sandbox } from '../../api/k8s/types.ts';
import { wakesOnTraffic } from '../sandbox/idle.ts';

export interface ActivityDeps {
  /** Merge-patches the Sandbox's annotations. */
  patch(namespace: string, name: string, annotations: Record<string, string>): Promise<void>;
  now(): Date;
  everyMs: number;
  onError(sandbox: string, err: unknown): void;
}

export class ActivityRecorder {
  private readonly open = new Map<string, number>();
  private readonly touched = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> = Promise.resolve();

  constructor(private readonly d: ActivityDeps) {}

  start(): void {
    this.timer = setInterval(() => { this.flushing = this.flush(); }, this.d.everyMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flushing;
  }

  /** A request or connection for `sb` begins; call the returned function once when it ends. */
  begin(sb: Sandbox): () => void {
    if (!wakesOnTraffic(sb)) return () => undefined;
    const key = `${sb.metadata.namespace}/${sb.metadata.name}`;
    this.open.set(key, (this.open.get(key) ?? 0) + 1);
    this.touched.add(key);
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      const left = (this.open.get(key) ?? 1) - 1;
      if (left > 0) this.open.set(key, left); else this.open.delete(key);
      this.touched.add(key);
    };
  }

  /** Writes the activity of every Sandbox touched since the last flush or still in use. */
  async flush(): Promise<void> {
    const keys = new Set([...this.touched, ...this.open.keys()]);
    this.touched.clear();
    const at = this.d.now().toISOString();
    await Promise.all([...keys].map(async (key) => {
      const [namespace, name] = key.split('/') as [string, string];
      try {
        await this.d.patch(namespace, name, { [ANNOTATION.lastActivity]: at });
      } catch (e) {
        this.d.onError(key, e);
      }
    }));
  }
}
