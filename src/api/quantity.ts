/**
 * Kubernetes resource quantities (CPU and memory) as agentbox counts them: cores and MiB. Used
 * where a wire format speaks Kubernetes' units: OpenSandbox's resourceLimits, and the resources of
 * a SandboxTemplate's pod spec. Imports nothing of ours but the error family.
 */
import { invalidArgument } from './errors.ts';

const CPU_RE = /^(\d+(?:\.\d+)?)(m?)$/;
const MEMORY_RE = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|K|M|G|T)?$/;
const MEMORY_UNIT_BYTES: Record<string, number> = {
  '': 1, Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30, Ti: 2 ** 40, k: 1e3, K: 1e3, M: 1e6, G: 1e9, T: 1e12,
};

/** `"500m"` → 0.5, `"2"` → 2 (Kubernetes CPU quantities). */
export function parseCpu(q: string, what: string): number {
  const m = CPU_RE.exec(q.trim());
  const cores = m ? Number(m[1]) / (m[2] ? 1000 : 1) : NaN;
  if (!(cores > 0)) throw invalidArgument(`${what} '${q}' is not a CPU quantity such as "500m" or "2"`);
  return cores;
}

/** `"512Mi"` → 512, `"2Gi"` → 2048, `"1G"` → 954 (Kubernetes memory quantities, rounded up to MiB). */
export function parseMemoryMiB(q: string, what: string): number {
  const m = MEMORY_RE.exec(q.trim());
  const mib = m ? Math.ceil((Number(m[1]) * MEMORY_UNIT_BYTES[m[2] ?? '']!) / 2 ** 20) : NaN;
  if (!(mib > 0)) throw invalidArgument(`${what} '${q}' is not a memory quantity such as "512Mi" or "2Gi"`);
  return mib;
}
