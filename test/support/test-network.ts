/**
 * Every test file that runs a real engine gets its own network (subnet, interface prefix,
 * nftables table, DNS port), so files can run in parallel. Indexes are assigned here by name,
 * not hashed: two files on one network break each other's sandboxes.
 *
 * AGENTBOX_TEST_LANE (0-7) moves every network of a run aside, so two checkouts of the
 * repository on one machine can run the same test files at once.
 */
const INDEX: Record<string, number> = {
  lifecycle: 1, egress: 2, checkpoint: 3, templates: 4, limits: 5, recovery: 6, 'guest-in-sandbox': 7, golden: 9, 'golden-crash': 10, 'execd-sandbox': 17, 'server-execd-port': 18, 'server-execd-sdk': 19, 'server-os-framework': 47,
  'server-e2e': 20, 'server-pool': 21, 'server-crash': 22, 'server-e2b': 23, 'server-e2b-tls': 24,
  'server-e2b-volumes': 96,
  'server-py-sdk': 83,
  // E2B control-API and traffic parity (test/e2b/api-parity.test.ts).
  'server-e2b-parity': 91, 'server-e2b-parity-tls': 92,
  'server-e2b-images': 99,
  // Benchmarks reuse the test fixtures.
  'server-bench': 40, 'server-bench-e2b': 41, 'server-bench-burst': 42, 'bench-runtime': 43, 'server-bench-k8s-node': 45, 'server-bench-opensandbox': 46, 'server-bench-code-interpreter': 44, 'server-bench-template-start': 48,
  // The adversarial suite (test/security): an engine and a real server per area.
  'sec-templates': 50, 'server-sec-templates': 51, 'sec-egress': 52, 'server-sec-egress': 53,
  'sec-dos': 54, 'server-sec-dos': 55, 'sec-quota': 56, 'server-sec-quota': 57,
  'sec-disk': 58, 'server-sec-disk': 59, 'sec-runc': 60, 'server-sec-runc': 61,
  'sec-gateway': 62, 'server-sec-gateway': 63, 'server-sec-fuzz': 64, 'sec-chaos': 65, 'server-sec-chaos': 66,
  // Coverage of README claims on the real engine.
  'claims-1': 70, 'claims-2': 71, 'claims-3': 72, 'server-claims-1': 73, 'server-claims-2': 74, 'server-claims-3': 75,
  // The CLI on the real engine (test/cli).
  'server-cli-days': 84,
  // The web console in a browser (test/console).
  'server-console': 82,
  // E2B template builds through the SDK's Template (test/e2b/template-build.test.ts).
  'server-e2b-tbuild': 93,
  // The guest's envd protocol through the E2B SDKs (test/e2b/envd-parity.test.ts).
  'server-envd-parity': 94, 'server-envd-parity-tls': 95,
  // Lifecycle events and webhooks (test/server/events.test.ts).
  'server-events': 97, 'server-events-crash': 98,
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
