// The extensions' hook into the core Sandbox reconciler: which Sandbox labels reach its Pod.
// The core filters system-reserved keys out of podTemplate metadata (anti-spoofing), so labels the
// extensions rely on (NetworkPolicy podSelector, pool membership, claim identity) are copied from
// the Sandbox's own labels — only when a SandboxWarmPool or SandboxClaim controls it.
import { EXT_GROUP, LABEL } from '../../api/k8s/constants.ts';
import type { Sandbox } from '../../api/k8s/types.ts';
import { controllerOf } from '../ownership.ts';

const COPIED = [LABEL.warmPoolSandbox, LABEL.templateRefHash, LABEL.claimUid] as const;

export function extensionPodLabels(sb: Sandbox): Record<string, string> {
  const owner = controllerOf(sb);
  if (!owner || !owner.apiVersion.startsWith(`${EXT_GROUP}/`)) return {};
  const out: Record<string, string> = {};
  for (const k of COPIED) {
    const v = sb.metadata.labels?.[k];
    if (v !== undefined) out[k] = v;
  }
  return out;
}
