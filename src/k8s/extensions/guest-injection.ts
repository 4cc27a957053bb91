// The OpenSandbox pool pattern: an init container copies the agentbox guest daemon into an
// emptyDir shared with the main container, whose entrypoint becomes the guest (which then execs
// the original command and serves the agent-sandbox runtime protocol on port 8888).
// Enabled per template with the pod-template annotation `agentbox.dev/inject-guest: <image>`.
import { ANNOTATION } from '../../api/k8s/constants.ts';
import type { Container, PodSpec } from '../../api/k8s/types.ts';

export const GUEST_VOLUME = 'agentbox-guest';
export const GUEST_MOUNT = '/opt/agentbox';
export const RUNTIME_PORT = 8888;

export function injectGuest(spec: PodSpec, annotations: Record<string, string> | undefined): PodSpec {
  const image = annotations?.[ANNOTATION.injectGuest];
  if (!image || spec.containers.length === 0) return spec;
  if (spec.volumes?.some((v) => v.name === GUEST_VOLUME)) return spec; // already injected
  const out: PodSpec = structuredClone(spec);
  out.volumes = [...(out.volumes ?? []), { name: GUEST_VOLUME, emptyDir: {} }];
  const copier: Container = {
    name: 'agentbox-guest-install',
    image,
    command: ['/bin/sh', '-c', `cp -a /agentbox/. ${GUEST_MOUNT}/`],
    volumeMounts: [{ name: GUEST_VOLUME, mountPath: GUEST_MOUNT }],
  };
  out.initContainers = [copier, ...(out.initContainers ?? [])];
  const main = out.containers[0]!;
  const original = [...(main.command ?? []), ...(main.args ?? [])];
  main.volumeMounts = [...(main.volumeMounts ?? []), { name: GUEST_VOLUME, mountPath: GUEST_MOUNT, readOnly: true }];
  main.command = [`${GUEST_MOUNT}/bin/agentbox-guest`];
  main.args = ['--agent-sandbox-runtime-port', String(RUNTIME_PORT), ...(original.length ? ['--', ...original] : [])];
  if (!main.ports?.some((p) => p.containerPort === RUNTIME_PORT)) {
    main.ports = [...(main.ports ?? []), { name: 'runtime', containerPort: RUNTIME_PORT, protocol: 'TCP' }];
  }
  return out;
}
