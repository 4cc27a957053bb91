/**
 * Every test file that runs a real engine gets its own network (subnet, interface prefix,
 * nftables table, DNS port), so files can run in parallel. Indexes are assigned here by name,
 * not hashed: two files on one network break each other's sandboxes.
 *
 * AGENTBOX_TEST_LANE (0-7) moves every network of a run aside, so two checkouts of the
 * repository on one machine can run the same test files at once.
 */
const INDEX: Record<string, number> = {
  lifecycle: 1, egress: 2, checkpoint: 3, templates: 4, limits: 5, recovery: 6, 'guest-in-sandbox': 7,
  'server-e2e': 20, 'server-pool': 21, 'server-crash': 22, 'server-e2b': 23, 'server-e2b-tls': 24,
  // Benchmarks reuse the test fixtures.
  'server-bench': 40, 'server-bench-e2b': 41,
};

export const TEST_LANE = lane(process.env.AGENTBOX_TEST_LANE);

function lane(raw: string | undefined): number {
  const k = Number(raw ?? 0);
  if (!Number.isInteger(k) || k < 0 || k > 7) throw new Error(`AGENTBOX_TEST_LANE must be 0-7, got '${raw}'`);
  return k;
}

export function networkIndex(name: string): number {
  const n = INDEX[name];
  if (n === undefined) throw new Error(`no test network for '${name}': add it to test/support/test-network.ts`);
  return n;
}

/** A subnet of `size` /24s for network `n`, inside this lane's part of 10.(100+n).0.0/16. */
export const testSubnet = (n: number, prefix: 22 | 24 = 24) => `10.${100 + n}.${TEST_LANE * 8}.0/${prefix}`;

export const testNetwork = (n: number) => ({
  subnet: testSubnet(n),
  ifacePrefix: `t${n}${'xyzwvuqp'[TEST_LANE]}`,
  table: `agentbox_test_${n}_${TEST_LANE}`,
  dnsPort: 20000 + 100 * TEST_LANE + n,
  nat: false,
});
