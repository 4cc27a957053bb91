/**
 * One network namespace per sandbox, joined to the host by a veth pair (see addresses.ts).
 * Everything is done with iproute2 batches: one on the host side, one inside the namespace.
 */
import { existsSync } from 'node:fs';
import { runCommand } from '../command.ts';
import type { LinkAddresses } from './addresses.ts';

export const netnsName = (sandboxId: string) => `agentbox-${sandboxId}`;
export const netnsPath = (sandboxId: string) => `/run/netns/${netnsName(sandboxId)}`;

export async function createNetns(sandboxId: string, link: LinkAddresses): Promise<void> {
  const ns = netnsName(sandboxId);
  // Leftovers of a crashed create (or of a sandbox that held this slot) go first.
  await deleteNetns(sandboxId, link);
  const host = [
    `netns add ${ns}`,
    `link add ${link.hostIface} type veth peer name eth0 netns ${ns}`,
    `addr add ${link.hostIp}/${link.prefixLength} dev ${link.hostIface}`,
    `link set ${link.hostIface} up`,
  ];
  await runCommand('ip', ['-batch', '-'], { input: host.join('\n') + '\n' });
  await addressForBoot(sandboxId, link);
}

/**
 * Gives the namespace's eth0 its address and default route. gVisor's netstack takes both over
 * when the sandbox boots (it removes them from the host kernel's view of the namespace), and
 * reads them again at restore, so this runs before every start and every restore.
 */
export async function addressForBoot(sandboxId: string, link: LinkAddresses): Promise<void> {
  const inside = [
    `addr replace ${link.sandboxIp}/${link.prefixLength} dev eth0`,
    'link set eth0 up',
    'link set lo up',
    `route replace default via ${link.hostIp}`,
  ];
  await runCommand('ip', ['-n', netnsName(sandboxId), '-batch', '-'], { input: inside.join('\n') + '\n' });
}

/** Removes the namespace and the host side of the veth; missing pieces are not an error. */
export async function deleteNetns(sandboxId: string, link: LinkAddresses): Promise<void> {
  await runCommand('ip', ['link', 'del', link.hostIface]).catch(() => undefined);
  await runCommand('ip', ['netns', 'del', netnsName(sandboxId)]).catch(() => undefined);
}

export function netnsExists(sandboxId: string): boolean {
  return existsSync(netnsPath(sandboxId));
}

/** Routing between the host and sandbox links needs forwarding on. */
export async function enableForwarding(): Promise<void> {
  await runCommand('sysctl', ['-q', '-w', 'net.ipv4.ip_forward=1']);
}
