import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code } from '@connectrpc/connect';
import { codeFromString } from '@connectrpc/connect/protocol-connect';
import { CONNECT_CODE_OF, ERROR_CODE_OF_CONNECT } from './envd-protocol.ts';
import type { ErrorCode } from './errors.ts';

test('every code the guest sends reads back as itself on the host, but the three that fold', () => {
  const folded: Partial<Record<ErrorCode, ErrorCode | undefined>> = { quota_exceeded: 'resource_exhausted', sandbox_ended: 'not_found', internal: undefined };
  for (const [ours, connect] of Object.entries(CONNECT_CODE_OF) as [ErrorCode, string][]) {
    const back = ERROR_CODE_OF_CONNECT[connect];
    assert.equal(back, ours in folded ? folded[ours] : ours, `${ours} → ${connect} → ${back}`);
  }
});

test('the table speaks Connect\'s wire names', () => {
  for (const name of [...Object.values(CONNECT_CODE_OF), ...Object.keys(ERROR_CODE_OF_CONNECT)]) {
    assert.notEqual(codeFromString(name), undefined, name);
  }
  assert.equal(codeFromString(CONNECT_CODE_OF.conflict), Code.FailedPrecondition);
});
