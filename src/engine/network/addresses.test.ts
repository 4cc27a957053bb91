import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freeSlot, linkAddresses, parseCidr, slotCount } from './addresses.ts';

describe('address plan', () => {
  it('gives each slot a /30 with the host at .1 and the sandbox at .2', () => {
    assert.deepEqual(linkAddresses('10.213.0.0/16', 0), { slot: 0, hostIp: '10.213.0.1', sandboxIp: '10.213.0.2', prefixLength: 30, hostIface: 'abx0' });
    assert.equal(linkAddresses('10.213.0.0/16', 64, 'abq').sandboxIp, '10.213.1.2');
    assert.equal(linkAddresses('10.213.0.0/16', 64, 'abq').hostIface, 'abq64');
    assert.equal(slotCount('10.213.0.0/24'), 64);
    assert.throws(() => linkAddresses('10.213.0.0/24', 64), /no sandbox address left/);
  });

  it('allocates round-robin, skipping used slots and wrapping', () => {
    assert.equal(freeSlot('10.0.0.0/28', [0, 1], 0), 2);
    assert.equal(freeSlot('10.0.0.0/28', [3], 3), 0);
    assert.throws(() => freeSlot('10.0.0.0/28', [0, 1, 2, 3]), /in use/);
  });

  it('parses CIDRs and rejects junk', () => {
    assert.deepEqual(parseCidr('10.1.2.3/8'), { base: 0x0a000000, prefix: 8 });
    assert.throws(() => parseCidr('10.1.2/8'));
    assert.throws(() => parseCidr('10.1.2.3/33'));
  });
});
