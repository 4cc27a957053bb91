// v1alpha1 ⇄ v1beta1 conversion of the four kinds (hub = v1beta1), pure: a function of the object
// alone, so the API server sees the same view whenever and through whichever replica it asks.
//
// Lossless both ways:
// - v1alpha1 → v1beta1 stashes the v1alpha1 spec/status in the hub annotation upstream uses
//   (`api.agents.x-k8s.io/v1alpha1-{sandbox,sandboxclaim}-state`), and the way back restores the
//   stashed fields that v1beta1 cannot express, as long as the hub still agrees with them.
// - v1beta1 → v1alpha1 stashes hub-only fields (e.g. a claim's volumeClaimTemplates, a pool's
//   rollout status) in `agentbox.dev/v1beta1-state` on the v1alpha1 object, so a v1alpha1 client
//   that reads, edits and writes back does not erase them. Upstream loses these (a gap we close).
import { ANNOTATION, HUB_VERSION, LABEL } from '../../api/k8s/constants.ts';
import type { KubeObject } from '../../api/k8s/types.ts';

export const HUB_STATE_ANNOTATION = 'agentbox.dev/v1beta1-state';
type Obj = KubeObject & { apiVersion: string; kind: string; spec?: Record<string, unknown>; status?: Record<string, unknown> };
type Json = Record<string, unknown>;

interface KindConversion {
  /** Hub-only fields, stashed on the v1alpha1 object. */
  hubOnlySpec: string[];
  hubOnlyStatus: string[];
  alphaStash?: string;
  up(alpha: Obj): Obj;
  down(hub: Obj): Obj;
}

const clone = <T>(v: T): T => structuredClone(v);
const withVersion = (o: Obj, version: string): Obj => ({ ...o, apiVersion: `${o.apiVersion.split('/')[0]}/${version}` });
const omit = (o: Json | undefined, keys: string[]): Json | undefined => {
  if (!o) return o;
  const out = { ...o };
  for (const k of keys) delete out[k];
  return out;
};

const sandbox: KindConversion = {
  // operatingMode is derived from replicas both ways, so it needs no stash.
  hubOnlySpec: [],
  hubOnlyStatus: ['nodeName'],
  alphaStash: ANNOTATION.v1alpha1SandboxState,
  up(a) {
    const spec = omit(a.spec, ['replicas']) ?? {};
    spec.operatingMode = a.spec?.replicas === 0 ? 'Suspended' : 'Running';
    return { ...a, spec, ...(a.status ? { status: omit(a.status, ['replicas']) } : {}) };
  },
  down(h) {
    const spec = omit(h.spec, ['operatingMode']) ?? {};
    spec.replicas = h.spec?.operatingMode === 'Suspended' ? 0 : 1;
    const status = h.status ? omit(h.status, ['nodeName'])! : undefined;
    if (status) status.replicas = Array.isArray(h.status?.podIPs) && (h.status!.podIPs as unknown[]).length ? 1 : 0;
    return { ...h, spec, ...(status ? { status } : {}) };
  },
};

/** Pool name of a warm-started sandbox: generateName `<pool>-` plus a 5-character suffix. */
function poolFromSandboxName(name: string): string | undefined {
  const m = /^(.+)-[a-z0-9]{5}$/.exec(name);
  return m?.[1];
}

const claim: KindConversion = {
  hubOnlySpec: ['warmPoolRef', 'volumeClaimTemplates'],
  hubOnlyStatus: [],
  alphaStash: ANNOTATION.v1alpha1ClaimState,
  up(a) {
    const spec = omit(a.spec, ['sandboxTemplateRef', 'warmpool']) ?? {};
    const policy = (a.spec?.warmpool as string | undefined) ?? 'default';
    const template = (a.spec?.sandboxTemplateRef as { name?: string } | undefined)?.name ?? '';
    const bound = a.metadata.annotations?.[ANNOTATION.sandboxName] ?? (a.status?.sandbox as { name?: string } | undefined)?.name;
    const warmStarted = bound && a.metadata.labels?.[LABEL.launchType] !== 'cold' ? poolFromSandboxName(bound) : undefined;
    let pool: string;
    if (policy !== 'default' && policy !== 'none') pool = policy;
    else if (warmStarted && bound !== a.metadata.name) pool = warmStarted;
    else pool = `shadow-pool-${template}`;
    spec.warmPoolRef = { name: pool };
    return { ...a, spec };
  },
  down(h) {
    const spec = omit(h.spec, ['warmPoolRef', 'volumeClaimTemplates']) ?? {};
    const pool = (h.spec?.warmPoolRef as { name?: string } | undefined)?.name ?? '';
    const shadow = pool.startsWith('shadow-pool-') ? pool.slice('shadow-pool-'.length) : undefined;
    // The template the claim controller recorded; before its first pass, the pool's own name
    // (what v1alpha1's `warmpool` policy maps back to the same pool).
    const recorded = h.metadata.annotations?.[ANNOTATION.claimTemplate];
    spec.sandboxTemplateRef = { name: shadow ?? recorded ?? pool };
    spec.warmpool = shadow ? 'default' : pool;
    return { ...h, spec };
  },
};

const template: KindConversion = {
  hubOnlySpec: ['volumeClaimTemplatesPolicy'],
  hubOnlyStatus: [],
  up: (a) => a,
  down: (h) => ({ ...h, spec: omit(h.spec, ['volumeClaimTemplatesPolicy']) }),
};

const pool: KindConversion = {
  hubOnlySpec: [],
  hubOnlyStatus: ['observedGeneration', 'updatedReplicas', 'conditions'],
  up: (a) => a,
  down: (h) => ({
    ...h,
    spec: { ...h.spec, replicas: (h.spec?.replicas as number | undefined) ?? 1 },
    ...(h.status ? { status: omit(h.status, ['observedGeneration', 'updatedReplicas', 'conditions']) } : {}),
  }),
};

const KINDS: Record<string, KindConversion> = {
  Sandbox: sandbox, SandboxClaim: claim, SandboxTemplate: template, SandboxWarmPool: pool,
};

const annotations = (o: Obj) => ({ ...(o.metadata.annotations ?? {}) });
const setAnnotations = (o: Obj, a: Record<string, string>): Obj => {
  const metadata = { ...o.metadata };
  if (Object.keys(a).length) metadata.annotations = a; else delete metadata.annotations;
  return { ...o, metadata };
};
const pick = (o: Json | undefined, keys: string[]): Json => {
  const out: Json = {};
  for (const k of keys) if (o && o[k] !== undefined) out[k] = o[k];
  return out;
};

export function toHub(obj: Obj): Obj {
  const k = KINDS[obj.kind];
  if (!k || obj.apiVersion.endsWith(`/${HUB_VERSION}`)) return withVersion(obj, HUB_VERSION);
  const a = clone(obj);
  const ann = annotations(a);
  const hubState = ann[HUB_STATE_ANNOTATION];
  delete ann[HUB_STATE_ANNOTATION];
  let hub = k.up(setAnnotations(a, ann));
  if (hubState) {
    const st = JSON.parse(hubState) as { spec?: Json; status?: Json };
    hub = { ...hub, spec: { ...hub.spec, ...(st.spec ?? {}) }, ...(st.status || hub.status ? { status: { ...(hub.status ?? {}), ...(st.status ?? {}) } } : {}) };
  }
  if (k.alphaStash) {
    const hann = annotations(hub);
    hann[k.alphaStash] = JSON.stringify({ spec: a.spec ?? {}, ...(a.status ? { status: a.status } : {}) });
    hub = setAnnotations(hub, hann);
  }
  return withVersion(hub, HUB_VERSION);
}

export function fromHub(obj: Obj, version: string): Obj {
  const k = KINDS[obj.kind];
  if (!k || version === HUB_VERSION) return withVersion(obj, version);
  const h = clone(obj);
  const ann = annotations(h);
  const stash = k.alphaStash ? ann[k.alphaStash] : undefined;
  if (k.alphaStash) delete ann[k.alphaStash];
  let alpha = k.down(setAnnotations(h, ann));
  if (stash) {
    // Restore what v1beta1 cannot say, but only while the hub still agrees with the stash.
    const st = JSON.parse(stash) as { spec?: Json; status?: Json };
    const again = k.up({ ...alpha, spec: { ...alpha.spec, ...(st.spec ?? {}) } });
    const agrees = JSON.stringify(pick(again.spec, Object.keys(h.spec ?? {}))) === JSON.stringify(pick(h.spec, Object.keys(h.spec ?? {})));
    if (agrees) alpha = { ...alpha, spec: { ...alpha.spec, ...(st.spec ?? {}) } };
    if (st.status && alpha.status && obj.kind === 'Sandbox' && st.status.replicas !== undefined && agrees) {
      alpha = { ...alpha, status: { ...alpha.status, replicas: st.status.replicas } };
    }
  }
  const hubOnly = { spec: pick(h.spec, k.hubOnlySpec), status: pick(h.status, k.hubOnlyStatus) };
  if (Object.keys(hubOnly.spec).length || Object.keys(hubOnly.status).length) {
    const aann = annotations(alpha);
    aann[HUB_STATE_ANNOTATION] = JSON.stringify({
      ...(Object.keys(hubOnly.spec).length ? { spec: hubOnly.spec } : {}),
      ...(Object.keys(hubOnly.status).length ? { status: hubOnly.status } : {}),
    });
    alpha = setAnnotations(alpha, aann);
  }
  return withVersion(alpha, version);
}

/** Converts one object to `desiredAPIVersion` (group/version), through the hub. */
export function convertObject(obj: Obj, desiredAPIVersion: string): Obj {
  const version = desiredAPIVersion.split('/')[1] ?? desiredAPIVersion;
  const from = obj.apiVersion.split('/')[1];
  if (from === version) return obj;
  return fromHub(toHub(obj), version);
}
