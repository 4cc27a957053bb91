// The E2B control API's query and body schemas: the values the SDKs send, and clear refusals.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ListQuery, MetricsQuery, NewSandbox, TimeoutBody } from './e2b.ts';

const messages = (r: { success: boolean; error?: { issues: { message: string }[] } }) => r.error?.issues.map((i) => i.message) ?? [];

describe('E2B query and body schemas', () => {
  it('startedAfter: JS toISOString and Python isoformat with an offset become epoch ms', () => {
    assert.equal(ListQuery.parse({ startedAfter: '2025-01-31T12:00:00.000Z' }).startedAfter, Date.UTC(2025, 0, 31, 12));
    assert.equal(ListQuery.parse({ startedAfter: '2025-01-31T13:00:00.123456+01:00' }).startedAfter, Date.UTC(2025, 0, 31, 12, 0, 0, 123));
    assert.equal(ListQuery.parse({}).startedAfter, undefined);
  });

  it('startedAfter without an offset (local to whom?) or not a date-time is refused, naming the field', () => {
    for (const bad of ['2025-01-31T12:00:00', 'yesterday', '2025-13-45T99:00:00Z']) {
      const r = ListQuery.safeParse({ startedAfter: bad });
      assert.equal(r.success, false, bad);
      assert.match(messages(r)[0]!, /^startedAfter '.*' is not an RFC 3339 date-time/);
    }
  });

  it('metrics start/end: Unix seconds, start not after end', () => {
    assert.deepEqual(MetricsQuery.parse({ start: '100', end: '200' }), { start: 100, end: 200 });
    assert.deepEqual(MetricsQuery.parse({}), {});
    assert.deepEqual(messages(MetricsQuery.safeParse({ start: '300', end: '200' })), ['start must not be after end']);
    assert.match(messages(MetricsQuery.safeParse({ start: '-1' }))[0]!, /^start '-1' is not a time in Unix seconds/);
    assert.match(messages(MetricsQuery.safeParse({ end: '1.5' }))[0]!, /^end '1.5' is not a time in Unix seconds/);
  });

  it('setTimeout allows 0 (E2B minimum), not below it nor above the ceiling; create still needs > 0', () => {
    assert.equal(TimeoutBody.parse({ timeout: 0 }).timeout, 0);
    assert.deepEqual(messages(TimeoutBody.safeParse({ timeout: -1 })), ['Timeout must be 0 or greater']);
    assert.deepEqual(messages(TimeoutBody.safeParse({ timeout: 86_401 })), ['Timeout cannot be greater than 24 hours']);
    assert.deepEqual(messages(NewSandbox.safeParse({ templateID: 'base', timeout: 0 })), ['Timeout must be greater than 0']);
  });
});
