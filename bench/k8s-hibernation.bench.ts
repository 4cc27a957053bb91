/**
 * Memory hibernation on the real node of scripts/k8s-node.sh (issue 14): real gVisor pods
 * checkpointed by the real node agent (node-local snapshots) and restored by the node's runsc
 * wrapper under the real shim, driven by the real operator.
 * - suspend (operatingMode Suspended → the Suspended condition, pod deleted after its checkpoint)
 *   and resume (Running → Ready, restored pod) of a busybox Sandbox holding 64 MiB and 512 MiB of
 *   random bytes in /dev/shm (incompressible: the worst case for the image), CYCLES cycles each on
 *   the same Sandbox, beside a cold Sandbox → Ready of the same pod spec in the same run;
 * - fork of a running 64 MiB Sandbox (a new Sandbox with agentbox.dev/fork-from → Ready, the
 *   source left running) beside the same cold start;
 * - a Sandbox of a golden template (its pod template forks a running Sandbox that imported pandas:
 *   what each warm-pool member of that template is) beside the same template started cold;
 * - a fork of that golden Sandbox once it is suspended with its memory: what each member of a
 *   golden-snapshot pool is (a restore of the one stored snapshot, no checkpoint of its own).
 * Run with `npm run bench -- k8s-hibernation` after `npm run k8s:env`.
 */
import type { KubeObject, Sandbox } from '../src/api/k8s/types.ts';
import { startOperator } from '../src/k8s/operator.ts';
import { SANDBOXES } from '../src/k8s/resources.ts';
import { adminClient, createNamespace, deleteNamespace, ensureEnv, installCrds, waitFor } from '../test/k8s/harness.ts';
import { ensureGvisorNode, IMAGE, kubectl, NODE_SCHEDULER, pythonPodTemplate, startRealNodeAgent } from '../test/k8s/real-node.ts';
import { cannotRun, percentileRow, stat, timeOnce, type BenchSuite } from './harness.ts';

const CYCLES = 5;
const COLD = 5;
const FORKS = 5;

type Cond = { type: string; status: string };
const condIs = (sb: Sandbox, type: string) => (sb.status?.conditions as Cond[] | undefined)?.some((c) => c.type === type && c.status === 'True') ?? false;

const suite: BenchSuite = {
  name: 'Memory hibernation on a real node (gVisor pods)',
  async run(ctx) {
    const skip = ensureEnv();
    if (skip) cannotRun('k8s-hibernation', skip);
    const client = await adminClient();
    const node = await ensureGvisorNode(client);
    if ('skip' in node) cannotRun('k8s-hibernation', node.skip);
    await installCrds(client);
    const ns = await createNamespace(client, 'bench-hib');
    const { agent, nodeAgents } = await startRealNodeAgent(client, node);
    const op = await startOperator({ client, namespace: ns, nodeAgents });
    const create = (name: string, command: string, annotations: Record<string, string> = {}) => client.create<Sandbox>(SANDBOXES, ns, {
      metadata: { name, annotations: { 'agentbox.dev/hibernation': 'memory', ...annotations } },
      spec: { podTemplate: { spec: {
        schedulerName: NODE_SCHEDULER, terminationGracePeriodSeconds: 1,
        containers: [{ name: 'main', image: IMAGE.busybox, imagePullPolicy: 'IfNotPresent', command: ['sh', '-c', command] }],
      } } },
    } as KubeObject as Sandbox);
    const until = (name: string, what: string, ok: (sb: Sandbox) => boolean) =>
      waitFor(`${name}: ${what}`, async () => (ok(await client.get<Sandbox>(SANDBOXES, ns, name)) ? true : null), 600_000, 50);
    const setMode = (name: string, operatingMode: string) => client.patch(SANDBOXES, ns, name, { spec: { operatingMode } });
    const holding = (mib: number) => `head -c ${mib << 20} /dev/urandom > /dev/shm/blob && touch /tmp/filled && sleep 1000000`;
    const filled = (name: string) => waitFor(`${name} filled`, async () =>
      ((await kubectl('-n', ns, 'exec', name, '-c', 'main', '--', 'sh', '-c', 'test -f /tmp/filled && echo yes || true')).trim() === 'yes' ? true : null), 300_000, 200);
    try {
      // Cold: the same pod spec started from nothing, one at a time.
      const cold: number[] = [];
      for (let i = 0; i < COLD; i++) {
        cold.push(await timeOnce(async () => { await create(`cold-${i}`, 'sleep 1000000', { 'agentbox.dev/hibernation': 'none' }); await until(`cold-${i}`, 'Ready', (sb) => condIs(sb, 'Ready')); }));
        await client.delete(SANDBOXES, ns, `cold-${i}`);
      }
      const coldBaseline = { name: 'cold Sandbox → Ready of the same pod spec', samples: cold };

      for (const mib of [64, 512]) {
        const name = `mem${mib}`;
        await create(name, holding(mib));
        await until(name, 'Ready', (sb) => condIs(sb, 'Ready'));
        await filled(name);
        const suspend: number[] = [];
        const resume: number[] = [];
        for (let i = 0; i < CYCLES; i++) {
          suspend.push(await timeOnce(async () => { await setMode(name, 'Suspended'); await until(name, 'suspended', (sb) => condIs(sb, 'Suspended')); }));
          resume.push(await timeOnce(async () => { await setMode(name, 'Running'); await until(name, 'Ready', (sb) => condIs(sb, 'Ready')); }));
        }
        ctx.report(percentileRow(`suspend with ${mib} MiB touched (random bytes) → Suspended`, suspend, 50, 'ms', coldBaseline));
        ctx.report(percentileRow(`resume with ${mib} MiB touched (random bytes) → Ready`, resume, 50, 'ms', coldBaseline, 'E2B publishes about 1 s, agent-substrate 290 ms'));
        if (mib === 512) {
          const p50 = stat(suspend, 50);
          ctx.report({ name: `suspend per GiB touched (512 MiB, random bytes), ${p50.label}`, value: (p50.value / 1000) * 2, unit: 's/GiB', n: CYCLES, computed: 'the suspend of 512 MiB × 2', target: 'E2B publishes about 4 s/GiB' });
        }
        if (mib === 64) {
          const fork: number[] = [];
          for (let i = 0; i < FORKS; i++) {
            fork.push(await timeOnce(async () => { await create(`fork-${i}`, holding(mib), { 'agentbox.dev/fork-from': name }); await until(`fork-${i}`, 'Ready', (sb) => condIs(sb, 'Ready')); }));
            await client.delete(SANDBOXES, ns, `fork-${i}`);
          }
          ctx.report(percentileRow(`fork of a running Sandbox with ${mib} MiB touched → fork Ready`, fork, 50, 'ms', coldBaseline));
        }
        await client.delete(SANDBOXES, ns, name);
      }

      // Golden: a Sandbox whose pod template forks a running golden Sandbox (what a warm-pool member
      // of such a template is) against the same template started cold; Ready = pandas imported.
      const python = (name: string, annotations: Record<string, string> = {}) => client.create(SANDBOXES, ns,
        { metadata: { name }, spec: { podTemplate: pythonPodTemplate(NODE_SCHEDULER, annotations) } } as KubeObject);
      const pyCold: number[] = [];
      for (let i = 0; i < COLD; i++) {
        pyCold.push(await timeOnce(async () => { await python(`py-cold-${i}`); await until(`py-cold-${i}`, 'Ready', (sb) => condIs(sb, 'Ready')); }));
        await client.delete(SANDBOXES, ns, `py-cold-${i}`);
      }
      await python('golden', { 'agentbox.dev/hibernation': 'memory' });
      await until('golden', 'Ready', (sb) => condIs(sb, 'Ready'));
      const golden: number[] = [];
      for (let i = 0; i < FORKS; i++) {
        golden.push(await timeOnce(async () => { await python(`py-golden-${i}`, { 'agentbox.dev/fork-from': 'golden' }); await until(`py-golden-${i}`, 'Ready', (sb) => condIs(sb, 'Ready')); }));
        await client.delete(SANDBOXES, ns, `py-golden-${i}`);
      }
      const pyColdBaseline = { name: 'the same template started cold (python3 imports pandas) → Ready', samples: pyCold };
      ctx.report(percentileRow('Sandbox of a golden template (a pool member: fork of a running Sandbox that imported pandas) → Ready', golden, 50, 'ms', pyColdBaseline));

      // Golden snapshot: the golden suspended with its memory, then forks of it restore that stored snapshot.
      await setMode('golden', 'Suspended');
      await until('golden', 'Suspended with a snapshot', (sb) => condIs(sb, 'Suspended') && !!sb.metadata.annotations?.['agentbox.dev/hibernation-snapshot']);
      const stored: number[] = [];
      for (let i = 0; i < FORKS; i++) {
        stored.push(await timeOnce(async () => { await python(`py-stored-${i}`, { 'agentbox.dev/fork-from': 'golden' }); await until(`py-stored-${i}`, 'Ready', (sb) => condIs(sb, 'Ready')); }));
        await client.delete(SANDBOXES, ns, `py-stored-${i}`);
      }
      ctx.report(percentileRow('member of a golden-snapshot pool (restore of the suspended golden\'s one stored snapshot, pandas imported) → Ready', stored, 50, 'ms', pyColdBaseline));
    } finally {
      await op.stop();
      await deleteNamespace(client, ns);
      await agent.close();
      client.close();
    }
  },
};
export default suite;
