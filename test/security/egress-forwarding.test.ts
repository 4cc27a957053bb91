/**
 * Audit L2: agentbox must not turn the host into a router for its neighbours. The engine turns
 * IPv4 forwarding on per sandbox link, and on an uplink only when NAT needs it (replies to
 * sandboxes arrive there), where the firewall then forwards only to sandboxes.
 *
 * The "host" is a namespace of this test with net.ipv4.ip_forward=0, an uplink to a
 * neighbour (who also plays the internet) and a second private network behind it; the engine's
 * own functions set it up (egress-forwarding-router.ts). Nothing touches the real host's
 * forwarding or firewall.
 */
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { runCommand } from '../../src/engine/command.ts';
import { netnsName } from '../../src/engine/network/netns.ts';
import { TEST_LANE } from '../support/test-network.ts';

const P = `abt-l2-${TEST_LANE}-`;
const HOST = `${P}host`;
const NEIGHBOUR = `${P}neighbour`;
const PRIVATE = `${P}private`;
const UPLINK = `abtup${TEST_LANE}`;
const SANDBOX = `l2fwd${TEST_LANE}`;
const TABLE = 'agentbox_l2';

const ipIn = (ns: string, batch: string[]) => runCommand('ip', ['-n', ns, '-batch', '-'], { input: batch.join('\n') + '\n' });
const inNs = async (ns: string, argv: string[]) => (await runCommand('ip', ['netns', 'exec', ns, ...argv])).stdout.trim();
const pings = (ns: string, ip: string) => runCommand('ip', ['netns', 'exec', ns, 'busybox', 'ping', '-c', '1', '-W', '2', ip]).then(() => true, () => false);

async function teardown(): Promise<void> {
  for (const ns of [HOST, NEIGHBOUR, PRIVATE, netnsName(SANDBOX)]) await runCommand('ip', ['netns', 'del', ns]).catch(() => undefined);
  await rm(`/run/agentbox/forwarding/${UPLINK}`, { force: true });
}

before(async () => {
  await teardown();
  for (const ns of [HOST, NEIGHBOUR, PRIVATE]) await runCommand('ip', ['netns', 'add', ns]);
  await inNs(HOST, ['sysctl', '-q', '-w', 'net.ipv4.ip_forward=0']);
  await runCommand('ip', ['-batch', '-'], { input: [
    `link add ${UPLINK} netns ${HOST} type veth peer name eth0 netns ${NEIGHBOUR}`,
    `link add lan1 netns ${HOST} type veth peer name eth0 netns ${PRIVATE}`,
  ].join('\n') + '\n' });
  await ipIn(HOST, [`addr add 203.0.113.1/24 dev ${UPLINK}`, `link set ${UPLINK} up`, 'addr add 192.168.77.1/24 dev lan1', 'link set lan1 up', 'link set lo up', 'route add default via 203.0.113.2']);
  // The neighbour tries to use the host as its router into the private network.
  await ipIn(NEIGHBOUR, ['addr add 203.0.113.2/24 dev eth0', 'link set eth0 up', 'route add 192.168.77.0/24 via 203.0.113.1']);
  await ipIn(PRIVATE, ['addr add 192.168.77.2/24 dev eth0', 'link set eth0 up', 'route add default via 192.168.77.1']);
  // nsenter, not `ip netns exec`: the script creates a named namespace, whose mount must be
  // visible here (ip netns exec runs in a mount namespace of its own).
  await runCommand('nsenter', [`--net=/run/netns/${HOST}`, process.execPath, '--import', 'tsx', new URL('./egress-forwarding-router.ts', import.meta.url).pathname,
    TABLE, '10.77.0.0/24', 'abx', SANDBOX]);
});

after(teardown);

describe('forwarding per interface, not host-wide', { timeout: 60_000 }, () => {
  it('a sandbox reaches the internet through a host whose ip_forward stays 0', async () => {
    assert.equal(await pings(netnsName(SANDBOX), '203.0.113.2'), true);
    assert.equal(await inNs(HOST, ['sysctl', '-n', 'net.ipv4.ip_forward']), '0');
    assert.equal(await inNs(HOST, ['sysctl', '-n', 'net.ipv4.conf.lan1.forwarding']), '0', 'an interface agentbox has no use for');
  });

  it('a neighbour on the uplink cannot route through the host into another network', async () => {
    // Let the private network forward its replies, as a host with other routing duties would.
    await inNs(HOST, ['sysctl', '-q', '-w', 'net.ipv4.conf.lan1.forwarding=1']);
    assert.equal(await pings(NEIGHBOUR, '192.168.77.2'), false);
    // Control: without agentbox's table the same route works, so the block above is its rule.
    await inNs(HOST, ['nft', 'delete', 'table', 'inet', TABLE]);
    assert.equal(await pings(NEIGHBOUR, '192.168.77.2'), true);
  });
});
