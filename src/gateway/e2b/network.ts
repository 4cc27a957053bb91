/**
 * E2B's network settings → agentbox's egress policy (E2B's published spec, github.com/e2b-dev/E2B `spec/`):
 * `denyOut` naming ALL_TRAFFIC (0.0.0.0/0) turns the default to deny, `allowOut` entries beat
 * `denyOut`, and `allow_internet_access: false` is `denyOut: [ALL_TRAFFIC]`.
 */
import type { NetworkConfig } from '../../api/e2b.ts';
import type { EgressPolicy } from '../../server/backend.ts';

const ALL_TRAFFIC = '0.0.0.0/0';

export function egressPolicy(network: NetworkConfig | null | undefined, allowInternet: boolean | null | undefined): EgressPolicy | undefined {
  if (!network && allowInternet !== false) return undefined;
  const deny = network?.denyOut ?? [];
  const blocksAll = allowInternet === false || deny.includes(ALL_TRAFFIC);
  return {
    defaultAction: blocksAll ? 'deny' : 'allow',
    allow: network?.allowOut ?? [],
    deny: deny.filter((d) => d !== ALL_TRAFFIC),
  };
}
