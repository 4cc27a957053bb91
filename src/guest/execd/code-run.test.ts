import { test } from 'node:test';
import assert from 'node:assert/strict';
import { translate } from './code-run.ts';

test('interpreter results become execd results keyed by MIME type, text/plain as text', () => {
  assert.deepEqual(translate({ type: 'result', text: '42', html: '<b>42</b>', png: 'iVBOR', extra: { 'application/x-custom': 1 } }), {
    type: 'result', results: { text: '42', 'text/html': '<b>42</b>', 'image/png': 'iVBOR', 'application/x-custom': 1 },
  });
});

test('streams, execution counts and errors map one to one; keepalives and the end have no frame', () => {
  assert.deepEqual(translate({ type: 'stderr', text: 'w\n' }), { type: 'stderr', text: 'w\n' });
  assert.deepEqual(translate({ type: 'number_of_executions', execution_count: 3 }), { type: 'execution_count', execution_count: 3 });
  assert.deepEqual(translate({ type: 'error', name: 'ZeroDivisionError', value: 'division by zero', traceback: 'l1\nl2' }), {
    type: 'error', error: { ename: 'ZeroDivisionError', evalue: 'division by zero', traceback: ['l1', 'l2'] },
  });
  assert.equal(translate({ type: 'keepalive' }), undefined);
  assert.equal(translate({ type: 'end_of_execution' }), undefined);
});
