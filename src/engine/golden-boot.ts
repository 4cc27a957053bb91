/**
 * Creating a sandbox from its template's golden snapshot (golden-snapshots.ts) instead of
 * booting it: the guest daemon's start-up (Node loading the guest, the larger part of a cold
 * start) is done once per template and limits, and every later create restores that idle
 * sandbox with a fresh identity. The first create of a kind boots from scratch and, off its
 * path, a hidden builder sandbox is booted, warmed and checkpointed into the golden snapshot.
 *
 * Identity: each copy gets its own id, hostname, address, disk, access token and init secret
 * (the guest is re-keyed through POST /init before the create returns, as for a restored
 * snapshot), and gVisor's random devices are fresh per restore. The guest's in-memory state is
 * the builder's: a pristine guest that has served only the builder's one warm-up command and
 * one re-key to its own keys, and holds no secret beyond the two the re-key replaces. Templates
 * that run their own start command (or ready check) boot, since their programs may hold state no
 * re-key reaches, unless the template says its start command may be snapshotted
 * (`start.goldenSnapshot`): then the builder waits for its ready check, and copies restore it
 * running. Such a start command never sees a create's env, booted or restored (bundle.ts
 * startConfig); the sandbox's env reaches it through the guest's GET /envs, as in E2B. A
 * template with a ready check alone says so with `ready.goldenSnapshot`: the builder passes the
 * check, and copies do not run it again.
 */
import { AgentboxError, asAgentboxError } from '../api/errors.ts';
import { goldenKey, type GoldenInputs } from './golden-snapshots.ts';
import { destroy, newRecord, runNew, sandboxKind, type SandboxKind } from './lifecycle.ts';
import { startsInSnapshot, type TemplateInfo } from './images/template-store.ts';
import type { EngineRecord } from './sandbox-record.ts';
import type { SandboxTable } from './sandbox-table.ts';
import { captureSnapshot, readSnapshotSandbox, restoreAsNew } from './snapshot-ops.ts';
import { PAUSE_SEAL } from './snapshots.ts';
import type { CreateSandboxRequest, SandboxInfo } from './types.ts';

/** What the builder runs before its checkpoint, so every copy starts with its exec path compiled and the shell loaded. */
const WARM_UP = ['/bin/sh', '-c', 'true'];

/**
 * The longest the warmed builder waits for its guest's heap to settle (GET /heap-settled) before
 * its checkpoint. What a guest does once idle must be done in the builder and not in every copy:
 * a copy's clocks read the time of its restore, so a timer pending at the checkpoint fires as
 * soon as the copy starts. The costly one is V8's memory reducer (src/guest/heap-settle.ts): a
 * copy that started with it pending collected during its re-key, which took 34-51 ms against
 * 12-16 ms (BENCHMARKS.md, twentieth round), and once done in the builder it has given 2 MiB
 * back before the checkpoint. It is done 9-10 s after the guest starts.
 */
const BUILDER_SETTLE_TIMEOUT_MS = 30_000;

/** engine.run: a restore of the golden snapshot when there is one for this kind of sandbox, else a boot. */
export async function run(t: SandboxTable, req: CreateSandboxRequest): Promise<SandboxInfo> {
  const record = newRecord(t, req, await t.opts.templates.ensure(req.template));
  const goldens = t.goldens;
  if (!goldens || !usesGolden(t, record)) return runNew(t, record);
  const key = keyOf(t, record);
  const dir = goldens.take(key);
  if (dir !== undefined) {
    try {
      await restoreAsNew(t, record, dir, readSnapshotSandbox(dir), { background: true });
      return t.info(record);
    } catch (err) {
      // The restore removed whatever it made (lifecycle.ts materialize); the create boots instead.
      t.log('golden snapshot did not restore; booting instead and making a new one', { key, id: record.id, err: asAgentboxError(err).message });
      await goldens.discard(key);
      record.state = 'creating';
    }
  }
  const info = await runNew(t, record);
  goldens.requestBuild(key, (into, closing) => buildGolden(t, record, current(t, record.template), key, into, closing));
  return info;
}

/**
 * Makes the golden snapshot that a create of `template` with the template's own limits (what a
 * create that names none gets) would restore, unless there is one or that kind boots: so the
 * first creates after a start restore too (`agentbox up`). One build at a time, as creates' own
 * builds. Resolves once done: true if the kind has one now that it had not before; false if it
 * had one, boots, lost its turn to a create's build, or the engine closed meanwhile. Throws what
 * the build failed with (a start command that never became ready, say).
 */
export async function prepare(t: SandboxTable, template: string, runtime?: EngineRecord['runtime']): Promise<boolean> {
  const goldens = t.goldens;
  if (!goldens) return false;
  const kind = sandboxKind(t, runtime ? { runtime } : {}, await t.opts.templates.ensure(template));
  const key = keyOf(t, kind);
  if (!usesGolden(t, kind) || goldens.has(key)) return false;
  await goldens.idle();
  const failure = await goldens.requestBuild(key, (into, closing) => buildGolden(t, kind, current(t, template), key, into, closing));
  if (failure !== undefined && !goldens.closed) throw asAgentboxError(failure);
  return goldens.has(key);
}

/**
 * Runs a template's start command and ready check once, as E2B ends a template build: in a
 * sandbox booted for it alone, which then becomes the golden snapshot where creates of that kind
 * restore one, and is removed otherwise. So a start command that cannot get ready fails the
 * caller on every runtime, golden snapshots on or off, and only that fails it: a checkpoint that
 * does not work costs the kind its golden snapshots (golden-snapshots.ts counts it), not the
 * check. `template` may be a build not yet in the store (TemplateStore checks a build before it
 * replaces the template): its golden snapshot is keyed by its build, so its creates restore it
 * once it is stored. True when a golden snapshot was made; false when there was one, the kind
 * boots, the snapshot could not be made, or the template has neither command.
 */
export async function startOnce(t: SandboxTable, template: TemplateInfo, runtime?: EngineRecord['runtime']): Promise<boolean> {
  const kind = sandboxKind(t, runtime ? { runtime } : {}, template);
  if (!kind.imageConfig.start && !kind.imageConfig.ready) return false;
  const check = hiddenSandbox(t, kind, template);
  // runNew waits for the ready check, and removes the sandbox itself when that fails.
  await runNew(t, check);
  const goldens = t.goldens;
  const key = keyOf(t, kind);
  let capture: Promise<unknown> | undefined;
  try {
    if (goldens && usesGolden(t, kind) && !goldens.has(key)) {
      await goldens.idle();
      // Refused when the kind has one by now, failed twice, or lost its turn to a create's build.
      capture = goldens.requestBuild(key, (into, closing) => captureGolden(t, check, into, closing));
    }
  } finally {
    if (!capture) await destroy(t, check.id);
  }
  return capture ? (await capture) === undefined : false;
}

/** The golden snapshot a sandbox of this kind restores, for the guest bundle this engine runs. */
const keyOf = (t: SandboxTable, kind: Omit<GoldenInputs, 'guest'>) => goldenKey({ ...kind, guest: t.opts.guest.dir });

/** The stored build of `key` when a golden build starts: it may have been rebuilt since its create. */
const current = (t: SandboxTable, key: string) => () => t.opts.templates.ensure(key);

/**
 * A golden snapshot can stand in for a boot: the runtime checkpoints, and at start either nothing
 * but the guest runs or the template lets its start command (or, without one, its ready check)
 * be snapshotted.
 */
function usesGolden(t: SandboxTable, r: Pick<EngineRecord, 'imageConfig' | 'runtime' | 'volumes'>): boolean {
  const { start, ready } = r.imageConfig;
  const snapshotted = (!start && !ready) || startsInSnapshot(r.imageConfig);
  return t.driver(r.runtime).canCheckpoint && !r.volumes?.length && snapshotted;
}

/**
 * Boots a hidden builder like `like` from `template` (read as the build starts) and captures it
 * into `dir`.
 */
async function buildGolden(t: SandboxTable, like: SandboxKind, template: () => Promise<TemplateInfo>, key: string, dir: string, closing: AbortSignal): Promise<void> {
  const builder = hiddenSandbox(t, like, await template());
  // The template may have been rebuilt since `like` was made: its snapshot would be another kind's.
  if (keyOf(t, builder) !== key) throw new AgentboxError('conflict', `template ${like.template} changed since the create that asked for its golden snapshot`);
  await runNew(t, builder);
  await captureGolden(t, builder, dir, closing);
}

/**
 * Warms up a running hidden builder, waits for its heap to settle and checkpoints it into `dir`.
 * The builder is removed whatever happens, `closing` included; recovery.ts removes one a crash
 * left.
 */
async function captureGolden(t: SandboxTable, builder: EngineRecord, dir: string, closing: AbortSignal): Promise<void> {
  try {
    await warmUp(t, builder);
    // Every copy is re-keyed through POST /init first thing: the builder runs it once (to its own
    // token and secret), so copies start with that path compiled too.
    await t.guest(builder).init(builder.initSecret, { accessToken: builder.accessToken, initSecret: builder.initSecret });
    const heap = await t.guest(builder).heapSettled({ timeoutMs: BUILDER_SETTLE_TIMEOUT_MS, signal: closing });
    if (!heap.settled) t.log('the golden snapshot builder\'s heap did not settle in time; its copies may collect garbage as they start', { template: builder.template, ...heap });
    await t.serialized(builder.id, async () => {
      t.dropGuest(builder.id);
      await captureSnapshot(t, builder, dir, `golden-${builder.id}`, PAUSE_SEAL);
    });
  } finally {
    await destroy(t, builder.id);
  }
}

/**
 * Runs WARM_UP in the builder. It only makes copies' first commands faster, so a template that
 * cannot run it (a distroless image has no shell) is snapshotted without it.
 */
async function warmUp(t: SandboxTable, builder: EngineRecord): Promise<void> {
  const why = await t.guest(builder).exec({ cmd: WARM_UP }).then(
    (r) => (r.exitCode === 0 ? undefined : `exited ${r.exitCode}: ${r.stderr}`),
    (err: unknown) => asAgentboxError(err).message,
  );
  if (why !== undefined) t.log('the golden snapshot builder\'s warm-up did not run; copies start with their exec path cold', { template: builder.template, cmd: WARM_UP.join(' '), why });
}

/**
 * A sandbox of the engine's own like `kind` (same template, runtime and limits; no env, default
 * egress): nobody's, never listed, and removed by recovery if a crash leaves it.
 */
function hiddenSandbox(t: SandboxTable, kind: SandboxKind, template: TemplateInfo): EngineRecord {
  const { cpu, memoryMiB, pids } = kind.limits;
  const r = newRecord(t, { template: kind.template, runtime: kind.runtime, limits: { cpu, memoryMiB, pids } }, template);
  r.golden = true;
  return r;
}
