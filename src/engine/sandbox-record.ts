/**
 * What the engine keeps on disk about one sandbox: `<home>/sandboxes/<id>/record.json`,
 * rewritten atomically at every state change, so a server killed at any moment finds each
 * sandbox in a state it can finish or undo (recovery.ts).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from './fsutil.ts';
import type { ImageConfig } from './images/template-store.ts';
import type { EgressPolicy, RuntimeClassName, SandboxLimits, VolumeMount } from './types.ts';

/**
 * Persisted states. The transitional ones (`pausing`, `resuming`, `snapshotting`, `destroying`)
 * exist only on disk, so that recovery knows which step a crash interrupted.
 */
export type EngineRecordState = 'creating' | 'created' | 'running' | 'pausing' | 'paused' | 'resuming' | 'snapshotting' | 'destroying' | 'failed';

export interface EngineRecord {
  id: string;
  template: string;
  templateBuildId: string;
  /** Image layers (top first) the overlay is built from. */
  layers: string[];
  imageConfig: ImageConfig;
  runtime: RuntimeClassName;
  /** sha256 of the runtime binary the sandbox was started (or restored) with. */
  runtimeSha256: string;
  state: EngineRecordState;
  createdAt: string;
  pausedAt?: string;
  /** False when paused filesystem-only (stopped; resume boots again). */
  pausedWithMemory?: boolean;
  /** Address slot (see network/addresses.ts). */
  slot: number;
  /** `limits.diskMiB` is the size of the disk image (bundle.ts: disk.img). */
  limits: SandboxLimits;
  env: Record<string, string>;
  egress: EgressPolicy;
  accessToken: string;
  /** Guards the guest's POST /init; never leaves the engine. */
  initSecret: string;
  fromSnapshot?: string;
  /** Volumes bind-mounted into the sandbox at every boot and restore (absent: none). */
  volumes?: VolumeMount[];
  /** The engine's own (golden-boot.ts: a golden snapshot's builder, a start command's check): nobody's sandbox, never listed, removed by recovery. */
  golden?: true;
  /** While `snapshotting`: the snapshot's directory, whose images the sandbox continues from. */
  snapshotDir?: string;
  error?: string;
}

export class RecordStore {
  constructor(readonly root: string) {}

  dir(id: string): string {
    return join(this.root, id);
  }

  async save(record: EngineRecord): Promise<void> {
    await writeFileAtomic(join(this.dir(record.id), 'record.json'), JSON.stringify(record, null, 2));
  }

  /** Every sandbox directory with its record (undefined when the crash came before the first write). */
  scan(): { id: string; record?: EngineRecord }[] {
    if (!existsSync(this.root)) return [];
    return readdirSync(this.root).filter((n) => !n.startsWith('.')).map((id) => {
      const file = join(this.root, id, 'record.json');
      try {
        return { id, record: JSON.parse(readFileSync(file, 'utf8')) as EngineRecord };
      } catch {
        return { id };
      }
    });
  }
}
