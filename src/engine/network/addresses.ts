/**
 * Address plan of the sandbox links. Every sandbox gets one /30 out of the engine's subnet,
 * numbered by a slot: `.1` is the host side of its veth pair, `.2` the sandbox side. Pure
 * functions so that allocation and recovery agree without any state but the slot number.
 */
import { AgentboxError } from '../../api/errors.ts';

export interface LinkAddresses {
  slot: number;
  hostIp: string;
  sandboxIp: string;
  prefixLength: 30;
  /** Host-side veth name; kernel names are limited to 15 bytes. */
  hostIface: string;
}

export function ipToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new AgentboxError('invalid_argument', `'${ip}' is not an IPv4 address`);
  }
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

export function intToIp(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

export function parseCidr(cidr: string): { base: number; prefix: number } {
  const [ip, len] = cidr.split('/');
  const prefix = len === undefined ? 32 : Number(len);
  if (!Number.isInteger(prefix) || prefix < 0 || prefix > 32) {
    throw new AgentboxError('invalid_argument', `'${cidr}' is not an IPv4 CIDR`);
  }
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return { base: (ipToInt(ip!) & mask) >>> 0, prefix };
}

export function slotCount(subnet: string): number {
  const { prefix } = parseCidr(subnet);
  return 2 ** (32 - prefix) / 4;
}

export function linkAddresses(subnet: string, slot: number, ifacePrefix = 'abx'): LinkAddresses {
  if (!Number.isInteger(slot) || slot < 0 || slot >= slotCount(subnet)) {
    throw new AgentboxError('resource_exhausted', `no sandbox address left in ${subnet} (slot ${slot}); use a larger subnet`);
  }
  const base = parseCidr(subnet).base + slot * 4;
  return { slot, hostIp: intToIp(base + 1), sandboxIp: intToIp(base + 2), prefixLength: 30, hostIface: `${ifacePrefix}${slot}` };
}

/**
 * The first slot not in `used`, searching from `from` and wrapping around. Allocating
 * round-robin keeps a just-freed address out of use for as long as possible, so a client
 * holding a keep-alive connection to a destroyed sandbox gets a clean error, not a stranger.
 */
export function freeSlot(subnet: string, used: Iterable<number>, from = 0): number {
  const taken = new Set(used);
  const total = slotCount(subnet);
  for (let i = 0; i < total; i++) {
    const slot = (from + i) % total;
    if (!taken.has(slot)) return slot;
  }
  throw new AgentboxError('resource_exhausted', `all ${total} sandbox addresses in ${subnet} are in use`);
}
