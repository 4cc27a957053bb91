// The kubelet for sandbox pods of a control plane without a node, shared by the tests that drive
// the Kubernetes backend (kubernetes-backend.test.ts, opensandbox-kubernetes.test.ts): each pod's
// guest runs as a local process with the config from its guest Secret, on a loopback address of
// its own, in a private mount namespace shaped like a base image's pod (POD_FILESYSTEM), and the
// pod is marked Ready with that address.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isNotFound, PODS, SECRETS, type KubeClient } from '../../src/k8s/client.ts';
import type { Secret } from '../../src/k8s/extensions/guest-secret.ts';
import type { Pod } from '../../src/k8s/sandbox/pod.ts';
import { markPodReady } from './harness.ts';

const ROOT = new URL('../..', import.meta.url).pathname;
const LANE = Number(process.env.AGENTBOX_TEST_LANE ?? 0);

interface SimPod { child: ChildProcess; dir: string }

/**
 * What a base image's pod sees, in the guest's private mount namespace: home directories of its
 * own (empty tmpfs; the host's /root, with rc files an interactive shell would run, stays out) and
 * the image's unprivileged `user` (a uid the host does not use), whom E2B's SDKs run commands as.
 */
const POD_FILESYSTEM = [
  'mount -t tmpfs tmpfs /home', 'mkdir -p /home/user', 'chown 61000:61000 /home/user', 'mount -t tmpfs tmpfs /root',
  'cp /etc/passwd /etc/group "$POD_DIR"/',
  "grep -q '^user:' /etc/passwd || echo 'user:x:61000:61000::/home/user:/bin/sh' >> \"$POD_DIR/passwd\"",
  "grep -q '^user:' /etc/group || echo 'user:x:61000:' >> \"$POD_DIR/group\"",
  'mount --bind "$POD_DIR/passwd" /etc/passwd', 'mount --bind "$POD_DIR/group" /etc/group',
  'exec "$0" "$@"',
].join(' && ');

/** Plays the kubelet for sandbox pods: runs each pod's guest locally (see the header), then marks it Ready. */
export function simulatedKubelet(client: KubeClient, ns: string): { stop(): Promise<void> } {
  /** By pod UID: a resumed Sandbox's new pod has the old one's name. */
  const running = new Map<string, SimPod>();
  let n = 0;
  let stopped = false;
  const start = async (pod: Pod) => {
    const name = pod.metadata.name!;
    const owner = pod.metadata.ownerReferences?.find((r) => r.kind === 'Sandbox')?.name;
    if (!owner) return;
    const secret = await client.getOrNull<Secret>(SECRETS, ns, `${owner}-agentbox-guest`);
    if (!secret?.data?.['config.json']) return;
    n++;
    // Lane and process apart: two suites of one lane may each run a kubelet at the same time.
    const ip = `127.${40 + LANE}.${process.pid & 255}.${n & 255}`;
    const dir = mkdtempSync(join(tmpdir(), 'agentbox-simpod-'));
    const config = { ...JSON.parse(Buffer.from(secret.data['config.json'], 'base64').toString()), host: ip };
    writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
    const child = spawn('unshare', ['--mount', '--propagation', 'private', 'sh', '-c', POD_FILESYSTEM,
      process.execPath, '--import', 'tsx', join(ROOT, 'src/guest/main.ts')], { cwd: ROOT, env: { ...process.env, AGENTBOX_GUEST_CONFIG: join(dir, 'config.json'), POD_DIR: dir }, stdio: ['ignore', 'ignore', 'pipe'] });
    running.set(pod.metadata.uid!, { child, dir });
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      child.stderr!.on('data', (b: Buffer) => { buf += b.toString(); if (buf.includes('"guest listening"')) resolve(); });
      child.once('exit', (code) => reject(new Error(`simulated pod ${name}: guest exited ${code}: ${buf}`)));
    });
    await markPodReady(client, ns, name, ip);
  };
  const loop = (async () => {
    while (!stopped) {
      try {
        const pods = (await client.list<Pod>(PODS, ns)).items;
        for (const p of pods) {
          if (!p.metadata.deletionTimestamp && !running.has(p.metadata.uid!) && p.status?.phase !== 'Running') await start(p);
        }
        // A deleted pod's guest stops, as its container would.
        for (const [uid, sim] of running) {
          if (!pods.some((p) => p.metadata.uid === uid && !p.metadata.deletionTimestamp)) { sim.child.kill('SIGKILL'); running.delete(uid); rmSync(sim.dir, { recursive: true, force: true }); }
        }
      } catch (e) { if (!isNotFound(e)) console.error('# simulated kubelet:', e); }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return {
    async stop() {
      stopped = true;
      await loop;
      for (const sim of running.values()) { sim.child.kill('SIGKILL'); rmSync(sim.dir, { recursive: true, force: true }); }
    },
  };
}

