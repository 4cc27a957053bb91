// Target → upstream address. Order: explicit pod IP hint → cache by UID → cache by
// namespace/name → cluster DNS. The cache is an informer over sandbox pods (name-hash label);
// unclaimed warm pods are reachable only by UID, never by a guessable name.
import { LABEL } from '../../api/k8s/constants.ts';
import { nameHash } from '../hash.ts';
import type { Informer } from '../informer.ts';
import type { Pod } from '../sandbox/pod.ts';
import { RouterError } from './errors.ts';
import { isForbiddenHint, type Target } from './target.ts';

export interface Upstream { host: string; port: number; via: 'pod-ip' | 'uid' | 'name' | 'dns' }

const ipsOf = (p: Pod) => p.status?.podIPs?.map((x) => x.ip) ?? (p.status?.podIP ? [p.status.podIP] : []);
const live = (p: Pod) => !p.metadata.deletionTimestamp && p.status?.phase === 'Running' && ipsOf(p).length > 0;

export function resolveUpstream(t: Target, pods: Informer<Pod> | undefined, clusterDomain: string): Upstream {
  if (t.podIp) {
    // A hint naming a known sandbox pod is trusted whatever its range (tests run pods on
    // loopback); any other hint must not point at loopback, link-local or multicast.
    const known = pods?.list((p) => ipsOf(p).includes(t.podIp!) && p.metadata.namespace === t.namespace).length;
    if (!known && isForbiddenHint(t.podIp)) throw new RouterError(400, 'X-Sandbox-Pod-IP is not an allowed address');
    return { host: t.podIp, port: t.port, via: 'pod-ip' };
  }
  if (pods) {
    if (t.uid) {
      const byUid = pods.list((p) => p.metadata.uid === t.uid && live(p), t.namespace)[0];
      if (byUid) return { host: ipsOf(byUid)[0]!, port: t.port, via: 'uid' };
    }
    const hash = nameHash(t.id);
    const byName = pods.list((p) => p.metadata.labels?.[LABEL.sandboxNameHash] === hash
      && !p.metadata.labels?.[LABEL.warmPoolSandbox] && live(p), t.namespace)[0];
    if (byName) return { host: ipsOf(byName)[0]!, port: t.port, via: 'name' };
  }
  if (!clusterDomain) throw new RouterError(502, `sandbox ${t.namespace}/${t.id} has no running pod`);
  return { host: `${t.id}.${t.namespace}.svc.${clusterDomain}`, port: t.port, via: 'dns' };
}
