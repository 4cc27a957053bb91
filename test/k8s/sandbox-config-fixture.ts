// A SandboxConfig (src/api/k8s/sandbox-config-schemas.ts) that its CRD and the guardrails admit,
// for crd-validation.test.ts and guardrails.test.ts to break one field at a time.
import type { KubeObject } from '../../src/api/k8s/types.ts';
import { SANDBOX_CONFIG } from '../../src/api/k8s/sandbox-config-schemas.ts';

export { SANDBOX_CONFIGS } from '../../src/k8s/resources.ts';

export interface Asset { url?: string; sha256?: string }
export type SandboxConfig = KubeObject & { spec: { class: string; default?: boolean; runtime: { version?: string; assets: Record<string, Asset> } } };

export const goodSandboxConfig = (name: string, spec: Partial<SandboxConfig['spec']> = {}): SandboxConfig => ({
  apiVersion: `${SANDBOX_CONFIG.group}/${SANDBOX_CONFIG.version}`, kind: SANDBOX_CONFIG.kind,
  metadata: { name },
  spec: {
    class: 'gvisor',
    runtime: {
      version: 'release-20250512.0',
      assets: {
        amd64: { url: 'https://storage.googleapis.com/gvisor/releases/release/20250512.0/x86_64/runsc', sha256: 'a'.repeat(64) },
        arm64: { url: 'file:///opt/runsc/aarch64/runsc', sha256: '0123456789abcdef'.repeat(4) },
      },
    },
    ...spec,
  },
});
