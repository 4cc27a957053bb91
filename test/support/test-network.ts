/** A per-test network for the real engine (same scheme as test/engine/fixture.ts), so files can run in parallel. */
export const testNetwork = (n: number) => ({ subnet: `10.${20 + n}.0.0/24`, ifacePrefix: `t${n}x`, table: `agentbox_test_${n}`, dnsPort: 20000 + n, nat: false });
