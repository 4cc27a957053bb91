/**
 * The egress floor as data: destinations no sandbox reaches whatever its allow-list says. One
 * list for both deployments: on one machine nftables enforces it beneath every tenant rule
 * (src/engine/network/floor.ts, egress.ts); on Kubernetes the operator cuts it out of every
 * NetworkPolicy it writes (src/k8s/extensions/egress-floor.ts).
 */

/** Non-global IPv4: private, shared (CGNAT), loopback, link-local and metadata, benchmarking, multicast, reserved. */
export const FLOOR_V4 = [
  '0.0.0.0/8', // "this network"
  '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', // RFC 1918
  '100.64.0.0/10', // shared address space; also Alibaba's metadata 100.100.100.200
  '127.0.0.0/8',
  '169.254.0.0/16', // link-local: AWS/GCP/Azure metadata 169.254.169.254
  '168.63.129.16/32', // Azure's platform endpoint (wireserver)
  '192.0.0.0/24', // IETF protocol assignments
  '198.18.0.0/15', // benchmarking
  '224.0.0.0/4', // multicast
  '240.0.0.0/4', // reserved, and the limited broadcast address
];

/** Global IPv6 unicast (2000::/3); every other IPv6 address (loopback, ULA, link-local, IPv4-mapped, multicast) is floor. */
export const GLOBAL_V6 = '2000::/3';
/**
 * Inside 2000::/3 but no global destination: 2001::/32 (Teredo) and 2002::/16 (6to4) embed IPv4
 * addresses, which may be private ones; 2001:db8::/32 is documentation only.
 */
export const FLOOR_V6_IN_GLOBAL = ['2001::/32', '2001:db8::/32', '2002::/16'];
/** 2000::/3's complement and its floor inside, as CIDRs. */
export const FLOOR_V6 = ['::/3', '4000::/2', '8000::/1', ...FLOOR_V6_IN_GLOBAL];
