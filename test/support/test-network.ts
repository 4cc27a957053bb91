/**
 * Every test file that runs a real engine gets its own network (subnet, interface prefix,
 * nftables table, DNS port), so files can run in parallel. Indexes are assigned here by name,
 * not hashed: two files on one network break each other's sandboxes.
 */
const INDEX: Record<string, number> = {
  lifecycle: 1, egress: 2, checkpoint: 3, templates: 4, limits: 5, recovery: 6, 'guest-in-sandbox': 7,
  'server-e2e': 20, 'server-pool': 21, 'server-crash': 22, 'server-e2b': 23, 'server-e2b-tls': 24,
  // Benchmarks reuse the test fixtures.
  'server-bench': 40, 'server-bench-e2b': 41,
};

export function networkIndex(name: string): number {
  const n = INDEX[name];
  if (n === undefined) throw new Error(`no test network for '${name}': add it to test/support/test-network.ts`);
  return n;
}

export const testNetwork = (n: number) => ({ subnet: `10.${100 + n}.0.0/24`, ifacePrefix: `t${n}x`, table: `agentbox_test_${n}`, dnsPort: 20000 + n, nat: false });
