import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AddressLearner, LEARN_BURST, LEARN_PER_SECOND, type LearnBatch } from './learner.ts';

function recorder() {
  const writes: LearnBatch[] = [];
  let clock = 1_000_000;
  const learner = new AddressLearner(async (b) => {
    writes.push(b);
    await new Promise((r) => setImmediate(r));
  }, () => clock);
  return { learner, writes, advance: (ms: number) => { clock += ms; } };
}

describe('address learner', () => {
  it('writes an address once however often it is learnt', async () => {
    const { learner, writes } = recorder();
    for (let i = 0; i < 1000; i++) assert.equal(await learner.learn('s1_allow_dns', ['203.0.113.7'], 300), true);
    assert.equal(writes.length, 1);
    assert.deepEqual([...writes[0]!.add], [['s1_allow_dns', ['203.0.113.7']]]);
    learner.stop();
  });

  it('batches what arrives while a write runs into one more write, and every caller waits for its own', async () => {
    const { learner, writes } = recorder();
    const all = await Promise.all(Array.from({ length: 50 }, (_, i) => learner.learn(`s${i % 5}_allow_dns`, [`203.0.113.${i}`], 60)));
    assert.ok(all.every(Boolean));
    assert.ok(writes.length <= 2, `${writes.length} writes`);
    const written = writes.flatMap((w) => [...w.add.values()].flat());
    assert.equal(new Set(written).size, 50);
    learner.stop();
  });

  it('refuses a sandbox past its burst until time refills it, without touching other sandboxes', async () => {
    const { learner, writes, advance } = recorder();
    for (let i = 0; i < LEARN_BURST; i++) assert.equal(await learner.learn('s1_allow_dns', [`198.51.100.${i}`], 60), true);
    assert.equal(await learner.learn('s1_allow_dns', ['198.51.100.200'], 60), false);
    assert.equal(await learner.learn('s1_allow_dns', ['198.51.100.0'], 60), true, 'a known address needs no write');
    assert.equal(await learner.learn('s2_allow_dns', ['198.51.100.200'], 60), true, 'another sandbox has its own budget');
    assert.equal(writes.length, LEARN_BURST + 1);
    advance(1000 / LEARN_PER_SECOND);
    assert.equal(await learner.learn('s1_allow_dns', ['198.51.100.200'], 60), true);
    learner.stop();
  });

  it('removes an address once its TTL has passed, and a repeat answer extends it', async () => {
    const { learner, writes, advance } = recorder();
    await learner.learn('s1_allow_dns', ['203.0.113.1', '203.0.113.2'], 60);
    advance(50_000);
    await learner.learn('s1_allow_dns', ['203.0.113.2'], 60);
    advance(20_000);
    await learner.sweep();
    assert.deepEqual([...writes.at(-1)!.remove], [['s1_allow_dns', ['203.0.113.1']]]);
    assert.equal(learner.size('s1_allow_dns'), 1);
    learner.forget('s1_allow_dns');
    assert.equal(learner.size('s1_allow_dns'), 0);
    learner.stop();
  });

  it('forgets addresses whose write failed, so the next answer tries again', async () => {
    let fail = true;
    const learner = new AddressLearner(async () => { if (fail) throw new Error('nft failed'); });
    await assert.rejects(learner.learn('s1_allow_dns', ['203.0.113.1'], 60), /nft failed/);
    fail = false;
    assert.equal(await learner.learn('s1_allow_dns', ['203.0.113.1'], 60), true);
    assert.equal(learner.size('s1_allow_dns'), 1);
    learner.stop();
  });
});
