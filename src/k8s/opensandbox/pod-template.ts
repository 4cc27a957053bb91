// OpenSandbox's pool pod template → an agentbox pod template (pure). Upstream's pattern puts
// execd into the main container through an init container (`execd-installer` copying execd and
// bootstrap.sh into the `opensandbox-bin` emptyDir, the main command prefixed with bootstrap.sh)
// and starts per-request tasks through a `task-executor` sidecar (port 5758, SYS_PTRACE, a shared
// process namespace). agentbox's injected guest (extensions/guest-injection.ts) serves execd's
// protocol on 44772 itself and runs commands in the container it is PID 1 of, so those parts are
// dropped and the guest annotation is set instead (docs/opensandbox.md, "Kubernetes").
import { invalidArgument } from '../../api/errors.ts';
import { ANNOTATION } from '../../api/k8s/constants.ts';
import { OPENSANDBOX_REPLACED, type OpenSandboxPodTemplate } from '../../api/k8s/opensandbox.ts';
import type { Container, PodTemplate } from '../../api/k8s/types.ts';

/** The guest image of pods whose template names none (`--opensandbox-guest-image`). */
export const DEFAULT_GUEST_IMAGE = 'agentbox/guest:0.1.0';

/** `/opt/opensandbox/bin/bootstrap.sh sleep infinity` → `sleep infinity`: what bootstrap would have run. */
function withoutBootstrap(c: Container): Container {
  const out: Container = { ...c };
  if (out.command?.[0]?.endsWith('/bootstrap.sh')) {
    const rest = out.command.slice(1);
    if (rest.length) out.command = rest; else delete out.command;
  }
  out.volumeMounts = out.volumeMounts?.filter((m) => m.name !== OPENSANDBOX_REPLACED.binVolume);
  if (!out.volumeMounts?.length) delete out.volumeMounts;
  // EXECD tells bootstrap.sh where execd was installed; nothing reads it without them.
  out.env = out.env?.filter((e) => e.name !== 'EXECD');
  if (!out.env?.length) delete out.env;
  return out;
}

/**
 * The agentbox pod template of an OpenSandbox one. `owner` names the object in errors. The main
 * container is the first one left after the task-executor is dropped (the guest becomes its PID 1).
 */
export function agentboxPodTemplate(t: OpenSandboxPodTemplate | undefined, guestImage: string, owner: string): PodTemplate {
  const containers = (t?.spec?.containers ?? []).filter((c) => c.name !== OPENSANDBOX_REPLACED.taskExecutor).map(withoutBootstrap);
  if (!t?.spec || containers.length === 0) {
    throw invalidArgument(`${owner} has no container in spec.template besides ${OPENSANDBOX_REPLACED.taskExecutor}; give it the sandbox container`);
  }
  const spec: PodTemplate['spec'] = { ...structuredClone(t.spec), containers };
  // Only the task-executor needed to see the main container's processes.
  delete spec.shareProcessNamespace;
  const init = spec.initContainers?.filter((c) => c.name !== OPENSANDBOX_REPLACED.execdInstaller);
  if (init?.length) spec.initContainers = init; else delete spec.initContainers;
  const volumes = spec.volumes?.filter((v) => v.name !== OPENSANDBOX_REPLACED.binVolume);
  if (volumes?.length) spec.volumes = volumes; else delete spec.volumes;
  const annotations = { ...(t.metadata?.annotations ?? {}) };
  annotations[ANNOTATION.injectGuest] ||= guestImage;
  return { metadata: { ...(t.metadata?.labels ? { labels: { ...t.metadata.labels } } : {}), annotations }, spec };
}
