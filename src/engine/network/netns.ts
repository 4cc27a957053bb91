/**
 * One network namespace per sandbox, joined to the host by a veth pair (see addresses.ts).
 * Everything is done with iproute2 batches: one on the host side, one inside the namespace.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { runCommand } from '../command.ts';
import type { LinkAddresses } from './addresses.ts';

export const netnsName = (sandboxId: string) => `agentbox-${sandboxId}`;
export const netnsPath = (sandboxId: string) => `/run/netns/${netnsName(sandboxId)}`;

export async function createNetns(sandboxId: string, link: LinkAddresses): Promise<void> {
  const ns = netnsName(sandboxId);
  // Leftovers of a crashed create (or of a sandbox that held this slot) go first. Looked for
  // before deleting: on a clean host there are none, and the two `ip` calls that would fail
  // cost 10-60 ms of every cold create (BENCHMARKS.md, issue #13).
  if (netnsExists(sandboxId) || linkExists(link.hostIface)) await deleteNetns(sandboxId, link);
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

/** Whether the host has a network interface of this name (sysfs lists every one). */
function linkExists(iface: string): boolean {
  return existsSync(`/sys/class/net/${iface}`);
}

/**
 * IPv4 forwarding is decided by the interface a packet arrives on. Each sandbox link gets it
 * on its own, so the host does not start routing between all its interfaces
 * (`net.ipv4.ip_forward=1` would).
 */
const forwardingPath = (iface: string) => `/proc/sys/net/ipv4/conf/${iface}/forwarding`;

async function setForwarding(iface: string, on: boolean): Promise<void> {
  await writeFile(forwardingPath(iface), on ? '1' : '0');
}

/**
 * Turns forwarding on for a sandbox link: at every create and re-adoption, since a later
 * write of net.ipv4.ip_forward (by anyone) resets every interface's value.
 */
export async function enableForwarding(link: LinkAddresses): Promise<void> {
  await setForwarding(link.hostIface, true);
}

/** Where agentbox notes the uplinks it opened; tmpfs, so it is forgotten with the sysctls at reboot. */
const OPENED_DIR = '/run/agentbox/forwarding';

/**
 * Replies to sandbox traffic arrive on the host's uplinks (the interfaces of its default
 * routes), which must forward them back. Turns forwarding on where it is off and returns the
 * uplinks agentbox opened (now or by an earlier run since boot): the firewall lets those
 * forward only to sandboxes. Uplinks someone else opened are left to their owner.
 */
export async function openUplinks(): Promise<string[]> {
  const { stdout } = await runCommand('ip', ['-j', 'route', 'show', 'default']);
  const devs = [...new Set((JSON.parse(stdout || '[]') as { dev?: string }[]).map((r) => r.dev).filter((d): d is string => !!d))];
  await mkdir(OPENED_DIR, { recursive: true, mode: 0o700 });
  const opened: string[] = [];
  for (const dev of devs) {
    const marker = `${OPENED_DIR}/${dev}`;
    if ((await readFile(forwardingPath(dev), 'utf8')).trim() === '0') {
      await writeFile(marker, '');
      await setForwarding(dev, true);
    }
    if (existsSync(marker)) opened.push(dev);
  }
  return opened;
}
