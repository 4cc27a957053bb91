/**
 * `agentbox up`: the embedded server with no configuration. State under AGENTBOX_HOME (default
 * ~/.agentbox), API on 127.0.0.1:7420, the `base` template built on first use with progress,
 * the admin key written to $AGENTBOX_HOME/admin.key (0600), then the golden snapshots of the
 * built shipped templates made in the background. Runs until SIGINT/SIGTERM; the sandboxes keep
 * running and are re-adopted by the next `up`.
 */
import { readFileSync } from 'node:fs';
import { RuntimeName } from '../../api/native.ts';
import { agentboxHome } from '../../sdk/config.ts';
import { flagsOf } from '../command-table.ts';
import { parseFlags, print, UsageError, type Command } from '../io.ts';
import type { LocalEngine } from '../../engine/engine.ts';
import type { TemplateStore } from '../../engine/images/template-store.ts';
import type { RuntimeClassName } from '../../engine/types.ts';
import { upKubernetes } from './up-kubernetes.ts';

export const up: Command = async (args, io) => {
  const { flags, bools, positionals } = parseFlags(args, flagsOf('up'));
  if (bools.has('kubernetes')) {
    if (positionals.length) throw new UsageError('usage: agentbox up --kubernetes [flags]; see docs/kubernetes.md');
    return upKubernetes(flags, io);
  }
  for (const k of ['namespace', 'kubeconfig', 'router-url', 'router-authz-mode', 'router-scoped-token-key-file', 'router-token-file', 'volume-storage-class', 'volume-access-mode']) {
    if (flags[k] !== undefined) throw new UsageError(`--${k} goes with --kubernetes`);
  }
  if (positionals.length) throw new UsageError('usage: agentbox up [--host H] [--port P] [--runtime gvisor|runc] [--domain D] [--tls-cert PEM --tls-key PEM] [--template T] [--no-base]');
  if (!flags['tls-cert'] !== !flags['tls-key']) throw new UsageError('--tls-cert and --tls-key go together');
  const parsed = RuntimeName.optional().safeParse(flags.runtime);
  if (!parsed.success) throw new UsageError(`--runtime is ${RuntimeName.options.join(' or ')}`);
  const runtime = parsed.data;
  // Loaded here, not at the top: they need native addons (better-sqlite3) that the image of the
  // bundled build, which runs `up --kubernetes`, does not ship (deploy/docker/operator.Dockerfile).
  const [{ createEngine }, { engineCatalog }, { startServer }] = await Promise.all([
    import('../../engine/index.ts'), import('../../server/engine-catalog.ts'), import('../../app/server.ts'),
  ]);
  const home = agentboxHome(io.env);
  const t0 = Date.now();
  const progress = (msg: string) => io.stderr.write(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(5)}s] ${msg}\n`);
  const log = (msg: string, fields?: Record<string, unknown>) => io.stderr.write(`${JSON.stringify({ t: new Date().toISOString(), msg, ...fields })}\n`);
  progress(`starting agentbox in ${home}`);
  const created = await createEngine({ home, ...(runtime ? { defaultRuntime: runtime } : {}), onProgress: progress, log });
  for (const u of created.unavailable) progress(`runtime ${u.name} unavailable: ${u.reason}`);
  const defaultRuntime = runtime ?? (created.runtimes.some((r) => r.name === 'gvisor') ? 'gvisor' : 'runc');
  const catalog = engineCatalog(created.templates, created.engine);
  const first = flags.template ?? 'base';
  if (!bools.has('no-base') && catalog.get(first)?.state !== 'ready') {
    progress(`building the '${first}' template (first use; cached afterwards)`);
    await catalog.ensureBuiltin(first, progress);
  }
  const goldens = goldenMaker(created.engine, defaultRuntime, progress);
  refreshOutdatedTemplates(created.templates, progress, goldens.prepare);
  const server = await startServer({
    home, engine: created.engine, catalog, defaultRuntime, log,
    host: flags.host ?? '127.0.0.1', port: flags.port === undefined ? 7420 : Number(flags.port),
    ...(flags.domain ? { domain: flags.domain } : {}),
    ...(flags['tls-cert'] && flags['tls-key'] ? { tls: { cert: readFileSync(flags['tls-cert'], 'utf8'), key: readFileSync(flags['tls-key'], 'utf8') } } : {}),
  });
  const r = server.recovery;
  if (r.adopted + r.removed + r.lost + r.orphans > 0) progress(`recovered: ${r.adopted} re-adopted, ${r.removed} half-created removed, ${r.lost} lost, ${r.orphans} orphans removed`);
  print(io, `agentbox is running on ${server.url} (runtime ${defaultRuntime})`);
  print(io, `admin key: ${server.adminKeyPath} (mode 0600)`);
  print(io, `web console: ${server.url}/ui/ (paste the admin key)`);
  print(io, '');
  print(io, `  export AGENTBOX_URL=${server.url}`);
  print(io, `  export AGENTBOX_API_KEY=$(cat ${server.adminKeyPath})`);
  print(io, `  agentbox create --template ${first}          # prints a sandbox id`);
  print(io, '  agentbox exec <id> -- uname -a');
  print(io, `  curl -H "Authorization: Bearer $AGENTBOX_API_KEY" ${server.url}/v1/sandboxes`);
  print(io, '');
  print(io, '  # the E2B SDKs, unchanged (docs/e2b.md):');
  print(io, `  export E2B_API_URL=${server.url}/e2b E2B_SANDBOX_URL=${server.url}/e2b/sandbox E2B_API_KEY=$(cat ${server.adminKeyPath})`);
  for (const name of [first, ...created.templates.shippedNames().filter((n) => n !== first)]) {
    if (catalog.get(name)?.state === 'ready') goldens.prepare(name);
  }
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  progress('stopping (sandboxes keep running; the next `agentbox up` re-adopts them)');
  goldens.stop();
  await server.close();
  await created.engine.close();
  return 0;
};

/**
 * Rebuilds, in the background, shipped templates whose build predates the recipe this agentbox
 * ships (an upgrade): new sandboxes get the previous build until the new one is recorded, and
 * running ones keep the layers they started on.
 */
function refreshOutdatedTemplates(store: TemplateStore, progress: (msg: string) => void, rebuilt: (key: string) => void): void {
  for (const key of store.outdatedShipped()) {
    progress(`template '${key}' was built from an older shipped recipe; rebuilding it in the background (sandboxes use the previous build until then)`);
    store.refreshShipped(key, (e) => progress(`${key}: ${e.message}`)).then(
      () => { progress(`template '${key}' rebuilt from the shipped recipe`); rebuilt(key); },
      (err: Error) => progress(`template '${key}' could not be rebuilt, the previous build stays in use: ${err.message}`),
    );
  }
}

/**
 * Makes, in the background and one at a time, the golden snapshots that creates of the built
 * shipped templates restore (engine/golden-boot.ts): without one, a template's first creates after
 * a start boot, for seconds in `code-interpreter-v1` (Python and Jupyter). They are kept on disk,
 * so only a new agentbox or a new build of a template makes them again.
 */
function goldenMaker(engine: LocalEngine, runtime: RuntimeClassName, progress: (msg: string) => void): { prepare: (template: string) => void; stop: () => void } {
  let queue = Promise.resolve();
  let stopped = false;
  return {
    prepare(template) {
      queue = queue.then(async () => {
        if (stopped) return;
        const t0 = Date.now();
        try {
          if (await engine.prepareGolden(template, runtime)) progress(`template '${template}': golden snapshot made in ${((Date.now() - t0) / 1000).toFixed(1)} s; its creates restore it`);
        } catch (err) {
          progress(`template '${template}': no golden snapshot made, its creates boot: ${(err as Error).message}`);
        }
      });
    },
    stop() { stopped = true; },
  };
}
