import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventStream } from './stream.ts';

test('eventStream yields pushed items, keepalives when idle, and stops at the last item', { timeout: 10_000 }, async () => {
  let push!: (item: string, last?: boolean) => void;
  let unsubscribed = false;
  const out: string[] = [];
  let subscribed!: () => void;
  const isSubscribed = new Promise<void>((r) => { subscribed = r; });
  let keptAlive!: () => void;
  const sawKeepalive = new Promise<void>((r) => { keptAlive = r; });
  const done = (async () => {
    for await (const item of eventStream<string>({
      subscribe: (p) => { push = p; subscribed(); return () => { unsubscribed = true; }; },
      keepalive: () => 'ka',
      keepaliveMs: 30,
      signal: new AbortController().signal,
    })) {
      out.push(item);
      if (item === 'ka') keptAlive();
    }
  })();
  await isSubscribed;
  push('a');
  // Idle after 'a': the stream must send a keepalive on its own (however long that takes here).
  await sawKeepalive;
  push('b', true);
  push('after-last');
  await done;
  assert.equal(out[0], 'a');
  assert.equal(out.at(-1), 'b');
  assert.ok(!out.includes('after-last'));
  assert.ok(unsubscribed);
});

test('eventStream ends with the abort reason when the signal aborts', async () => {
  const abort = new AbortController();
  const out: string[] = [];
  const done = (async () => {
    for await (const item of eventStream<string>({ subscribe: () => () => {}, keepalive: () => 'ka', keepaliveMs: 60_000, signal: abort.signal })) out.push(item);
  })();
  const reason = new RangeError('deadline');
  abort.abort(reason);
  await assert.rejects(done, (e) => e === reason);
  assert.deepEqual(out, []);
});
