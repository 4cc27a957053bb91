/**
 * Run inside the "host" namespace of egress-forwarding.test.ts: sets up host networking the
 * way the engine does (uplinks, one sandbox link, the base table and the sandbox's rules),
 * then exits; everything it made stays in that namespace.
 * argv: <table> <subnet> <ifacePrefix> <sandboxId>
 */
import { linkAddresses } from '../../src/engine/network/addresses.ts';
import { DEFAULT_EGRESS, EgressFirewall } from '../../src/engine/network/egress.ts';
import { createNetns, enableForwarding, openUplinks } from '../../src/engine/network/netns.ts';

const [table, subnet, ifacePrefix, sandboxId] = process.argv.slice(2) as [string, string, string, string];
const link = linkAddresses(subnet, 0, ifacePrefix);
const firewall = new EgressFirewall({ table, subnet, ifacePrefix, dnsPort: 10053, nat: true, allowPrivate: [] });
await firewall.init(await openUplinks());
await createNetns(sandboxId, link);
await enableForwarding(link);
await firewall.apply(link, DEFAULT_EGRESS);
firewall.stop();
console.log(JSON.stringify(link));
