// The OpenSandbox pool pattern: an init container (the agentbox guest image) copies the
// self-contained guest bundle (node, tini, libraries, the guest's code) into an emptyDir; the main
// container's entrypoint becomes the guest, which starts the original command and serves both the
// envd protocol and agent-sandbox's runtime protocol on port 8888. A pod then runs the same guest
// as a single-node sandbox, whatever its image (no Node needed in it).
// Enabled per pod template with the annotation `agentbox.dev/inject-guest: <image>`, on
// template-derived and bare Sandboxes alike. The guest's config, with its own random envd access
// token and init secret, is the per-Sandbox Secret of guest-secret.ts, mounted read-only.
import { GUEST_PORT } from '../../api/envd-protocol.ts';
import { EXECD_ENV_FILE, EXECD_PORT } from '../../api/opensandbox-execd.ts';
import { ANNOTATION } from '../../api/k8s/constants.ts';
import type { Container, PodSpec } from '../../api/k8s/types.ts';
import type { GuestConfigInput } from '../../guest/config.ts';
import { GUEST_MOUNT, guestArgv } from '../../envd/bundle.ts';

export const GUEST_VOLUME = 'agentbox-guest';
export const GUEST_CONFIG_VOLUME = 'agentbox-guest-config';
/** Where the guest Secret is mounted; its key `config.json` is the guest's config file. */
export const GUEST_CONFIG_DIR = '/run/agentbox-guest';
export const GUEST_CONFIG_KEY = 'config.json';
export const RUNTIME_PORT = 8888;
/** amd64 loader inside the bundle; the guest image is built per architecture. */
const LOADER = 'ld-linux-x86-64.so.2';

/** The same PID-1 command line as a single-node sandbox (the bundle mounts at the same path). */
export function guestEntrypoint(): string[] {
  return guestArgv(LOADER);
}

/** The guest image a pod template asks for, if any. */
export const guestImageOf = (annotations: Record<string, string> | undefined) => annotations?.[ANNOTATION.injectGuest] || undefined;

const injected = (spec: PodSpec) => spec.volumes?.some((v) => v.name === GUEST_VOLUME) ?? false;

/** The guest config of a pod spec, without its secrets: ports and the original command. */
export function guestConfigOf(spec: PodSpec, annotations: Record<string, string> | undefined): Omit<GuestConfigInput, 'initSecret' | 'accessToken'> {
  const main = spec.containers[0];
  const original = [...(main?.command ?? []), ...(main?.args ?? [])];
  // execd (OpenSandbox's API) on its port as in a one-machine sandbox, so the OpenSandbox façade
  // reaches pods the same way (docs/opensandbox.md, "The endpoint contract").
  return {
    port: GUEST_PORT, agentSandboxRuntimePort: RUNTIME_PORT, execdPort: EXECD_PORT, execdEnvFile: EXECD_ENV_FILE,
    ...(original.length ? { start: { cmd: original } } : {}),
    ...(annotations?.[ANNOTATION.defaultUser] ? { defaultUser: annotations[ANNOTATION.defaultUser] } : {}),
  };
}

/** Whether the Sandbox's pod gets the guest (and so needs its guest Secret first). */
export function wantsGuest(spec: PodSpec, annotations: Record<string, string> | undefined): boolean {
  return !!guestImageOf(annotations) && spec.containers.length > 0 && !injected(spec);
}

export function injectGuest(spec: PodSpec, annotations: Record<string, string> | undefined, secretName: string): PodSpec {
  const image = guestImageOf(annotations);
  if (!image || !wantsGuest(spec, annotations)) return spec;
  const out: PodSpec = structuredClone(spec);
  const main = out.containers[0]!;
  const copier: Container = {
    name: 'agentbox-guest-install',
    image,
    // -R, not -a: the copier runs as the image's non-root user, which may not set owners or the
    // times of the emptyDir's root; busybox's cp then fails the pod (seen on a real node).
    command: ['/bin/sh', '-c', `cp -R /agentbox/. ${GUEST_MOUNT}/`],
    volumeMounts: [{ name: GUEST_VOLUME, mountPath: GUEST_MOUNT }],
  };
  out.volumes = [...(out.volumes ?? []), { name: GUEST_VOLUME, emptyDir: {} }, { name: GUEST_CONFIG_VOLUME, secret: { secretName } }];
  out.initContainers = [copier, ...(out.initContainers ?? [])];
  main.volumeMounts = [...(main.volumeMounts ?? []),
    { name: GUEST_VOLUME, mountPath: GUEST_MOUNT, readOnly: true },
    { name: GUEST_CONFIG_VOLUME, mountPath: GUEST_CONFIG_DIR, readOnly: true }];
  main.command = guestEntrypoint();
  delete main.args;
  main.env = [...(main.env ?? []), { name: 'AGENTBOX_GUEST_CONFIG', value: `${GUEST_CONFIG_DIR}/${GUEST_CONFIG_KEY}` }];
  for (const [name, port] of [['runtime', RUNTIME_PORT], ['envd', GUEST_PORT]] as const) {
    if (!main.ports?.some((p) => p.containerPort === port)) main.ports = [...(main.ports ?? []), { name, containerPort: port, protocol: 'TCP' }];
  }
  // The runtime's GET / is the readiness probe upstream images use.
  if (!main.readinessProbe) main.readinessProbe = { httpGet: { path: '/', port: RUNTIME_PORT }, periodSeconds: 2 };
  return out;
}
