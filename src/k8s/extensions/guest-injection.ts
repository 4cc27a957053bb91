// The OpenSandbox pool pattern: an init container (the agentbox guest image) copies the
// self-contained guest bundle (node, tini, libraries, guest.mjs) into an emptyDir and writes its
// config; the main container's entrypoint becomes the guest, which starts the original command
// and serves both the envd protocol and agent-sandbox's runtime protocol on port 8888. A pod then
// runs the same guest as a single-node sandbox, whatever its image (no Node needed in it).
// Enabled per template with the pod-template annotation `agentbox.dev/inject-guest: <image>`.
import { createHash } from 'node:crypto';
import { ANNOTATION } from '../../api/k8s/constants.ts';
import type { Container, PodSpec } from '../../api/k8s/types.ts';
import { GUEST_MOUNT, guestArgv } from '../../guest/bundle.ts';

export const GUEST_VOLUME = 'agentbox-guest';
export const RUNTIME_PORT = 8888;
export const ENVD_PORT = 49983;
/** amd64 loader inside the bundle; the guest image is built per architecture. */
const LOADER = 'ld-linux-x86-64.so.2';

/** The same PID-1 command line as a single-node sandbox (the bundle mounts at the same path). */
export function guestEntrypoint(): string[] {
  return guestArgv(LOADER);
}

export function injectGuest(spec: PodSpec, annotations: Record<string, string> | undefined): PodSpec {
  const image = annotations?.[ANNOTATION.injectGuest];
  if (!image || spec.containers.length === 0) return spec;
  if (spec.volumes?.some((v) => v.name === GUEST_VOLUME)) return spec; // already injected
  const out: PodSpec = structuredClone(spec);
  const main = out.containers[0]!;
  const original = [...(main.command ?? []), ...(main.args ?? [])];
  // Deterministic, so re-deriving the spec (warm-pool staleness) gives the same pod spec. /init
  // is reachable only through the pod network, which the managed NetworkPolicy limits to the router.
  const initSecret = createHash('sha256').update(`agentbox-init:${image}:${JSON.stringify(original)}`).digest('hex').slice(0, 32);
  const config = {
    port: ENVD_PORT,
    initSecret,
    agentSandboxRuntimePort: RUNTIME_PORT,
    ...(original.length ? { start: { cmd: original } } : {}),
  };
  const copier: Container = {
    name: 'agentbox-guest-install',
    image,
    command: ['/bin/sh', '-c', `cp -a /agentbox/. ${GUEST_MOUNT}/ && printf '%s' "$AGENTBOX_GUEST_CONFIG_JSON" > ${GUEST_MOUNT}/config.json`],
    env: [{ name: 'AGENTBOX_GUEST_CONFIG_JSON', value: JSON.stringify(config) }],
    volumeMounts: [{ name: GUEST_VOLUME, mountPath: GUEST_MOUNT }],
  };
  out.volumes = [...(out.volumes ?? []), { name: GUEST_VOLUME, emptyDir: {} }];
  out.initContainers = [copier, ...(out.initContainers ?? [])];
  main.volumeMounts = [...(main.volumeMounts ?? []), { name: GUEST_VOLUME, mountPath: GUEST_MOUNT, readOnly: true }];
  main.command = guestEntrypoint();
  delete main.args;
  main.env = [...(main.env ?? []), { name: 'AGENTBOX_GUEST_CONFIG', value: `${GUEST_MOUNT}/config.json` }];
  for (const [name, port] of [['runtime', RUNTIME_PORT], ['envd', ENVD_PORT]] as const) {
    if (!main.ports?.some((p) => p.containerPort === port)) main.ports = [...(main.ports ?? []), { name, containerPort: port, protocol: 'TCP' }];
  }
  // The runtime's GET / is the readiness probe upstream images use.
  if (!main.readinessProbe) main.readinessProbe = { httpGet: { path: '/', port: RUNTIME_PORT }, periodSeconds: 2 };
  return out;
}
