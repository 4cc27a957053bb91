/** What the single-node engine is configured with (index.ts builds it from the host). */
import type { GuestBundleRef } from './bundle.ts';
import type { PhaseReport } from './phase-times.ts';
import type { TemplateStore } from './images/template-store.ts';
import type { RuntimeDriver } from './runtime/driver.ts';
import type { RuntimeClassName } from './types.ts';

export interface NetworkOptions {
  subnet: string;
  ifacePrefix: string;
  table: string;
  dnsPort: number;
  dnsUpstream: string;
  nat: boolean;
  /** Egress floor entries the operator lifts (src/engine/network/floor.ts); tenants cannot. */
  allowPrivate?: string[];
}

/** Sizes of sandbox disks (images/disk.ts), MiB. */
export interface DiskOptions {
  /** When neither the create request nor the template says; default 10 GiB. */
  defaultMiB: number;
  /** The most a create request or template may ask for; default 100 GiB. */
  maxMiB: number;
  /** Disks of the default size formatted and mounted ahead of time (images/prepared-disks.ts); default 8, enough for a burst of creates (4 MiB of host disk and a loop device each). */
  prepared: number;
}

export const DEFAULT_DISK: DiskOptions = { defaultMiB: 10_240, maxMiB: 102_400, prepared: 8 };

export interface LocalEngineOptions {
  home: string;
  drivers: Map<RuntimeClassName, RuntimeDriver>;
  defaultRuntime: RuntimeClassName;
  templates: TemplateStore;
  guest: GuestBundleRef & { envdVersion: string };
  network: NetworkOptions;
  disk?: Partial<DiskOptions>;
  /** How long a cold start may take until the guest answers. */
  readyTimeoutMs?: number;
  log?: (msg: string, fields?: Record<string, unknown>) => void;
  /** Receives the duration of each step of a create, boot, pause and resume (benchmarks, profiling). */
  onPhases?: PhaseReport;
  /**
   * How many golden snapshots (golden-snapshots.ts) to keep, one per template and limits that
   * creates restore instead of booting; 0 turns them off (every create boots). Default 8.
   */
  goldenSnapshots?: number;
}
