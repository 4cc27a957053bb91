// Target → upstream address, always an address the cluster vouches for. Order: pod IP hint →
// pod by UID → pod by Sandbox name → the Sandbox's headless Service by DNS. Hints only select
// among the pods of the named Sandbox (a pod counts only when a Sandbox the router knows controls
// it, by UID); nothing is dialled because a client named it. Namespaces outside the router's
// sandbox namespaces are refused, unclaimed warm pods are reachable only by UID, and host-network
// pods (whose IP is the node's) never.
import { LABEL } from '../../api/k8s/constants.ts';
import type { Sandbox } from '../../api/k8s/types.ts';
import type { Pod } from '../sandbox/pod.ts';
import { canonicalIp, isNeverSandbox } from './address.ts';
import type { ClusterView } from './cluster-view.ts';
import { RouterError } from './errors.ts';
import type { Target } from './target.ts';

export interface Upstream {
  host: string;
  port: number;
  via: 'pod-ip' | 'uid' | 'name' | 'dns';
  sandbox: Sandbox;
  /** Headers the router sets on the forwarded request (over the client's). */
  headers?: Record<string, string>;
}

const ipsOf = (p: Pod) => (p.status?.podIPs?.map((x) => x.ip) ?? (p.status?.podIP ? [p.status.podIP] : []))
  .map((ip) => canonicalIp(ip)).filter((ip): ip is string => ip !== null);
const live = (p: Pod) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running' && !p.spec.hostNetwork && ipsOf(p).length > 0;
// Pool membership is the Sandbox's: a claim takes a member by removing the label from the Sandbox,
// and the pod's copy of it goes only later (the sandbox controller's next pod sync), while the
// claimant may already be calling.
const inWarmPool = (sb: Sandbox) => !!sb.metadata.labels?.[LABEL.warmPoolSandbox];

export function resolveUpstream(t: Target, view: ClusterView, clusterDomain: string): Upstream {
  if (!view.watches(t.namespace)) throw new RouterError(404, `namespace ${t.namespace} is not a sandbox namespace of this router`);
  if (t.podIp && isNeverSandbox(t.podIp)) {
    throw new RouterError(400, `X-Sandbox-Pod-IP ${t.podIp} is a metadata, link-local, multicast or unspecified address, never a sandbox pod`);
  }
  const sandbox = view.sandbox(t.namespace, t.id);
  if (!sandbox) throw new RouterError(404, `sandbox ${t.namespace}/${t.id} does not exist`);
  // The named Sandbox's live pods: by UID (the only way to a warm pod), else its claimed pod.
  const warm = inWarmPool(sandbox);
  const pods = view.sandboxPods(t.namespace, (p, owner) => owner.metadata.uid === sandbox.metadata.uid && live(p)
    && (t.uid ? p.metadata.uid === t.uid : !warm));
  if (t.podIp) {
    const pod = pods.find((p) => ipsOf(p).includes(t.podIp!));
    if (!pod) throw new RouterError(400, `X-Sandbox-Pod-IP ${t.podIp} is not an address of the pod of sandbox ${t.namespace}/${t.id}`);
    return { host: t.podIp, port: t.port, via: 'pod-ip', sandbox };
  }
  if (pods[0]) return { host: ipsOf(pods[0])[0]!, port: t.port, via: t.uid ? 'uid' : 'name', sandbox };
  // The Service the operator reports for this Sandbox, never any other name in the cluster.
  if (!clusterDomain || t.uid || warm || sandbox.status?.service !== t.id) throw new RouterError(502, `sandbox ${t.namespace}/${t.id} has no running pod`);
  return { host: `${t.id}.${t.namespace}.svc.${clusterDomain}`, port: t.port, via: 'dns', sandbox };
}
