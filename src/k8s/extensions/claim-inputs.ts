// What a claim may ask for, checked and merged against its template: additional pod metadata,
// environment variables, volume claim templates and agentbox's volume mounts. Pure functions; each failure is a
// ClaimInputError whose `reason` is the claim's Ready reason (user error: no hot retry loop).
import { AgentboxError } from '../../api/errors.ts';
import { ANNOTATION, CORE_GROUP, LABEL, DEFAULT_LABEL_DOMAIN_ALLOWLIST, REASON, ROUTER_APP_LABEL } from '../../api/k8s/constants.ts';
import type { PersistentVolumeClaimTemplate, PodMetadata, PodSpec, SandboxClaim, SandboxTemplate } from '../../api/k8s/types.ts';
import { mountListProblems } from '../../api/volume-mount-path.ts';

export class ClaimInputError extends AgentboxError {
  constructor(readonly reason: string, message: string) {
    super('invalid_argument', message, { details: { reason } });
    this.name = 'ClaimInputError';
  }
}

const QUALIFIED_NAME = /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const FORBIDDEN_ANNOTATION_DOMAINS = ['kubernetes.io', 'k8s.io', CORE_GROUP];

const domainOf = (key: string) => (key.includes('/') ? key.slice(0, key.indexOf('/')) : '');
const inDomain = (domain: string, d: string) => domain === d || domain.endsWith(`.${d}`);

/** Validates additionalPodMetadata: label domains from an allowlist, no system annotations. */
export function validatePodMetadata(md: PodMetadata | undefined, labelDomains: readonly string[] = DEFAULT_LABEL_DOMAIN_ALLOWLIST): void {
  const fail = (m: string) => { throw new ClaimInputError(REASON.invalidMetadata, m); };
  for (const [k, v] of Object.entries(md?.labels ?? {})) {
    if (!QUALIFIED_NAME.test(k)) fail(`label key "${k}" is not a qualified name`);
    const domain = domainOf(k);
    if (!labelDomains.some((d) => inDomain(domain, d))) {
      fail(`label "${k}" must have a domain prefix in the allowlist (${labelDomains.join(', ')})`);
    }
    if (k === 'app' && v === ROUTER_APP_LABEL) fail('label app=sandbox-router is reserved for the router');
  }
  for (const k of Object.keys(md?.annotations ?? {})) {
    if (!QUALIFIED_NAME.test(k)) fail(`annotation key "${k}" is not a qualified name`);
    if (k === ANNOTATION.safeToEvict) continue;
    const domain = domainOf(k);
    if (FORBIDDEN_ANNOTATION_DOMAINS.some((d) => inDomain(domain, d))) fail(`annotation "${k}" uses a reserved domain`);
  }
}

/** Template pod metadata + claim metadata; a conflicting value is an error, not an override. */
export function mergePodMetadata(base: PodMetadata | undefined, extra: PodMetadata | undefined): PodMetadata {
  const merge = (a: Record<string, string> = {}, b: Record<string, string> = {}, what: string) => {
    const out = { ...a };
    for (const [k, v] of Object.entries(b)) {
      if (k in out && out[k] !== v) throw new ClaimInputError(REASON.invalidMetadata, `${what} "${k}" conflicts with the template's value`);
      out[k] = v;
    }
    return out;
  };
  return { labels: merge(base?.labels, extra?.labels, 'label'), annotations: merge(base?.annotations, extra?.annotations, 'annotation') };
}

/** Injects claim env vars per the template's envVarsInjectionPolicy. */
export function injectEnv(spec: PodSpec, claim: SandboxClaim, t: SandboxTemplate): PodSpec {
  const env = claim.spec.env ?? [];
  if (env.length === 0) return spec;
  const fail = (m: string) => { throw new ClaimInputError(REASON.envVarsInjectionRejected, m); };
  const policy = t.spec.envVarsInjectionPolicy ?? 'Disallowed';
  if (policy === 'Disallowed') fail(`template ${t.metadata.name} does not allow env injection (envVarsInjectionPolicy: Disallowed)`);
  const out = structuredClone(spec);
  for (const e of env) {
    const c = e.containerName ? out.containers.find((x) => x.name === e.containerName) : out.containers[0];
    if (!c) fail(`container "${e.containerName}" does not exist in template ${t.metadata.name}`);
    const container = c!;
    const existing = container.env?.find((x) => x.name === e.name);
    if (policy === 'Allowed') {
      if (container.envFrom?.length) fail(`container "${container.name}" uses envFrom; with policy Allowed new names cannot be proven new`);
      if (existing) fail(`env var "${e.name}" is set by the template; policy Allowed only adds new names`);
    }
    if (existing) existing.value = e.value ?? '';
    else container.env = [...(container.env ?? []), { name: e.name, value: e.value ?? '' }];
  }
  return out;
}

/** Merges claim VCTs into the template's per volumeClaimTemplatesPolicy. */
export function mergeVolumeClaimTemplates(base: PersistentVolumeClaimTemplate[] | undefined, claim: SandboxClaim, t: SandboxTemplate): PersistentVolumeClaimTemplate[] | undefined {
  const extra = claim.spec.volumeClaimTemplates ?? [];
  if (extra.length === 0) return base;
  const fail = (m: string) => { throw new ClaimInputError(REASON.volumeClaimTemplatesError, m); };
  const policy = t.spec.volumeClaimTemplatesPolicy ?? 'Disallowed';
  if (policy === 'Disallowed') fail(`template ${t.metadata.name} does not allow claim volumeClaimTemplates (volumeClaimTemplatesPolicy: Disallowed)`);
  const names = extra.map((v) => v.metadata?.name ?? '');
  if (names.some((n) => !n)) fail('every volumeClaimTemplate needs metadata.name');
  if (new Set(names).size !== names.length) fail('volumeClaimTemplate names must be unique');
  const out = [...(base ?? [])];
  for (const v of extra) {
    const at = out.findIndex((b) => b.metadata?.name === v.metadata?.name);
    if (at >= 0 && policy === 'Allowed') fail(`volumeClaimTemplate "${v.metadata?.name}" is defined by the template; policy Allowed only appends`);
    if (at >= 0) out[at] = v; else out.push(v);
  }
  return out;
}

/** A volume the claim's pod mounts: an existing PVC of the namespace (docs/volumes.md). */
export interface ClaimVolumeMount { claimName: string; path: string }

/**
 * The claim's `agentbox.dev/volume-mounts` (written by the agentbox server), checked: well-formed,
 * and every path one a volume may take (api/volume-mount-path.ts, the server's own rule). Whether
 * each PVC may be mounted by the claim is the controller's check (it reads the PVCs).
 */
export function volumeMountsOf(claim: SandboxClaim): ClaimVolumeMount[] {
  const raw = claim.metadata.annotations?.[ANNOTATION.volumeMounts];
  if (raw === undefined) return [];
  const fail = (m: string): never => { throw new ClaimInputError(REASON.volumeMountFailed, `annotation ${ANNOTATION.volumeMounts}: ${m}`); };
  let mounts: unknown;
  try { mounts = JSON.parse(raw); } catch { fail('not JSON'); }
  if (!Array.isArray(mounts) || mounts.some((m) => typeof m?.claimName !== 'string' || typeof m?.path !== 'string')) fail('must be a list of {claimName, path}');
  const list = (mounts as ClaimVolumeMount[]).map(({ claimName, path }) => ({ claimName, path }));
  const problems = mountListProblems(list);
  if (problems.length > 0) fail(problems.map((x) => `mount #${x.index}: ${x.reason}`).join('; '));
  return list;
}

/** Volume name in the pod of the claim's i-th mount. */
const mountVolumeName = (i: number) => `agentbox-volume-${i}`;

/** The pod spec with each PVC as a volume, mounted read-write in the main (first) container, where the guest runs commands. */
export function injectVolumeMounts(spec: PodSpec, mounts: ClaimVolumeMount[]): PodSpec {
  if (mounts.length === 0) return spec;
  const out = structuredClone(spec);
  const main = out.containers[0]!;
  out.volumes = [...(out.volumes ?? []), ...mounts.map((m, i) => ({ name: mountVolumeName(i), persistentVolumeClaim: { claimName: m.claimName } }))];
  main.volumeMounts = [...(main.volumeMounts ?? []), ...mounts.map((m, i) => ({ name: mountVolumeName(i), mountPath: m.path }))];
  return out;
}

/** created-by label values are normalised so that clients cannot invent cardinality. */
function normaliseCreatedBy(v: string | undefined): string {
  return v === 'go-client' || v === 'python-client' || v === 'controller' ? v : 'unknown';
}

/**
 * created-by of a claim's Sandbox and pod: the client the claim names, normalised; when the claim
 * names none (kubectl, a manifest), the controller, which made the Sandbox (a warm member keeps
 * the `controller` its pool gave it instead of turning `unknown` when claimed).
 */
export function createdByOf(claim: { metadata: { labels?: Record<string, string> } }): string {
  const v = claim.metadata.labels?.[LABEL.createdBy];
  return v === undefined ? 'controller' : normaliseCreatedBy(v);
}
