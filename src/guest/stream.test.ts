import { test } from 'node:test';
import assert from 'node:assert/strict';
import { eventStream } from './stream.ts';

test('eventStream yields pushed items, keepalives when idle, and stops at the last item', async () => {
  let push!: (item: string, last?: boolean) => void;
  let unsubscribed = false;
  const out: string[] = [];
  const done = (async () => {
    for await (const item of eventStream<string>({
      subscribe: (p) => { push = p; return () => { unsubscribed = true; }; },
      keepalive: () => 'ka',
      keepaliveMs: 30,
      signal: new AbortController().signal,
    })) out.push(item);
  })();
  await new Promise((r) => setTimeout(r, 5));
  push('a');
  await new Promise((r) => setTimeout(r, 80));
  push('b', true);
  push('after-last');
  await done;
  assert.equal(out[0], 'a');
  assert.ok(out.filter((x) => x === 'ka').length >= 1);
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
