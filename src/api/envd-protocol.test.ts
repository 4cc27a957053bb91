import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Code } from '@connectrpc/connect';
import { codeFromString } from '@connectrpc/connect/protocol-connect';
import { CONNECT_CODE_OF, ERROR_CODE_OF_CONNECT, SIGNAL_TEXT, signalOfStatus } from './envd-protocol.ts';
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

test('an end status gives back the signal the guest worded, with or without its prefix', () => {
  for (const [sig, text] of Object.entries(SIGNAL_TEXT)) {
    assert.equal(signalOfStatus(`signal: ${text}`), sig);
    assert.equal(signalOfStatus(text!), sig);
  }
  assert.equal(signalOfStatus('signal: SIGXCPU'), 'SIGXCPU', 'a signal Go has no text for is named as itself');
  for (const none of ['exit status 1', 'deadline exceeded', '', 'signal: ']) assert.equal(signalOfStatus(none), undefined, none);
});

