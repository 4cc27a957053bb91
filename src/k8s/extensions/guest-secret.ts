// The per-Sandbox Secret of an injected guest: its config file with a random envd access token
// and a random init secret, created by the operator before the pod, owned by the Sandbox (garbage
// collected with it), mounted into the pod, and read by the router to authenticate authorised
// callers to envd. Nothing about it can be derived from the template.
import { randomBytes } from 'node:crypto';
import { KIND, LABEL } from '../../api/k8s/constants.ts';
import type { KubeObject, PodSpec, Sandbox } from '../../api/k8s/types.ts';
import { nameHash } from '../hash.ts';
import { controllerRef, isControlledBy } from '../ownership.ts';
import { GUEST_CONFIG_KEY, guestConfigOf } from './guest-injection.ts';

export interface Secret extends KubeObject { type?: string; data?: Record<string, string> }
export interface GuestSecret { accessToken: string; initSecret: string }

export const GUEST_SECRET_LABEL = 'agentbox.dev/guest-secret';
export const guestSecretNameOf = (sandboxName: string) => `${sandboxName}-agentbox-guest`;

export function buildGuestSecret(sb: Sandbox, spec: PodSpec): Secret {
  const config = { ...guestConfigOf(spec, sb.spec.podTemplate.metadata?.annotations), accessToken: randomBytes(32).toString('hex'), initSecret: randomBytes(32).toString('hex') };
  return {
    apiVersion: 'v1', kind: 'Secret', type: 'Opaque',
    metadata: {
      name: guestSecretNameOf(sb.metadata.name!), namespace: sb.metadata.namespace,
      labels: { [GUEST_SECRET_LABEL]: 'true', [LABEL.sandboxNameHash]: nameHash(sb.metadata.name!) },
      ownerReferences: [controllerRef(sb, KIND.Sandbox)],
    },
    data: { [GUEST_CONFIG_KEY]: Buffer.from(JSON.stringify(config)).toString('base64') },
  };
}

/** The secrets of a guest Secret controlled by `sb`; undefined for any other Secret. */
export function readGuestSecret(s: Secret, sb: Sandbox): GuestSecret | undefined {
  const raw = s.data?.[GUEST_CONFIG_KEY];
  if (!raw || !isControlledBy(s, sb)) return undefined;
  try {
    const c = JSON.parse(Buffer.from(raw, 'base64').toString('utf8')) as Partial<GuestSecret>;
    return typeof c.accessToken === 'string' && typeof c.initSecret === 'string' ? { accessToken: c.accessToken, initSecret: c.initSecret } : undefined;
  } catch {
    return undefined;
  }
}
