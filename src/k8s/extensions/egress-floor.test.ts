// The egress floor cut out of NetworkPolicy egress rules: pure, no API server.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { FLOOR_V4, FLOOR_V6 } from '../../api/egress-floor.ts';
import { GLOBAL_PEERS, withEgressFloor } from './egress-floor.ts';

const HTTPS = [{ protocol: 'TCP', port: 443 }];
const block = (cidr: string, except?: string[]) => ({ ipBlock: except ? { cidr, except } : { cidr } });
const DNS_PEER = { namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } }, podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } } };

describe('withEgressFloor', () => {
  it('leaves a public allow-list as it is (no empty except added)', () => {
    const rules = [{ to: [block('203.0.113.0/24'), block('2600:1f00::/24')], ports: HTTPS }];
    assert.deepEqual(withEgressFloor(rules), rules);
  });

  it('turns a rule with no destination (any) into every global address, ports kept', () => {
    assert.deepEqual(withEgressFloor([{ ports: HTTPS }, { to: [], ports: HTTPS }]), [{ to: GLOBAL_PEERS, ports: HTTPS }, { to: GLOBAL_PEERS, ports: HTTPS }]);
    assert.deepEqual(GLOBAL_PEERS, [block('0.0.0.0/0', FLOOR_V4), block('2000::/3', ['2001::/32', '2001:db8::/32', '2002::/16'])]);
  });

  it('excepts the floor ranges inside a wider block, keeping its own excepts', () => {
    assert.deepEqual(withEgressFloor([{ to: [block('0.0.0.0/0')] }]), [{ to: [block('0.0.0.0/0', FLOOR_V4)] }]);
    assert.deepEqual(withEgressFloor([{ to: [block('100.0.0.0/8', ['100.1.0.0/16'])] }]), [{ to: [block('100.0.0.0/8', ['100.1.0.0/16', '100.64.0.0/10'])] }]);
    assert.deepEqual(withEgressFloor([{ to: [block('172.0.0.0/8', ['172.16.0.0/12'])] }]), [{ to: [block('172.0.0.0/8', ['172.16.0.0/12'])] }], 'no duplicate of an except already there');
    assert.deepEqual(withEgressFloor([{ to: [block('::/0')] }]), [{ to: [block('::/0', FLOOR_V6)] }]);
  });

  it('drops a block inside the floor (metadata, private, cluster, IPv4-mapped, ULA, documentation) and a rule left with none', () => {
    for (const cidr of ['169.254.169.254/32', '10.96.0.0/12', '192.168.1.0/24', '100.100.100.200/32', '168.63.129.16/32', '224.0.0.0/4',
      '::1/128', 'fd00::/8', 'fe80::/10', '::ffff:10.0.0.0/104', '::ffff:169.254.169.254/128', '2001:db8::/48', '2002:a00:1::/48']) {
      assert.deepEqual(withEgressFloor([{ to: [block(cidr)], ports: HTTPS }]), [], cidr);
    }
  });

  it('keeps in-cluster peers chosen by selector next to a dropped block', () => {
    assert.deepEqual(withEgressFloor([{ to: [block('10.0.0.0/8'), DNS_PEER, block('198.51.100.7/32')] }]), [{ to: [DNS_PEER, block('198.51.100.7/32')] }]);
  });
});
