// A node:test reporter that writes one JSON line per test outcome ({outcome, name, reason}, and
// for a failure the start of its error): scripts/run-tests.mjs counts passes and failures across
// files, holds every skip against its allow-list when running in CI, and repeats each failure's
// error in its summary (the part of a long run's output that a CI page keeps).
// Suites (describe blocks) are not tests and are left out.
export default async function* outcomesReporter(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { skip, todo, name, details } = event.data;
    if (details?.type === 'suite') continue;
    const skipped = skip !== undefined && skip !== false;
    const outcome = skipped ? 'skip' : todo !== undefined && todo !== false ? 'todo' : event.type === 'test:pass' ? 'pass' : 'fail';
    const reason = typeof skip === 'string' ? skip : typeof todo === 'string' ? todo : '';
    const error = outcome === 'fail' ? errorText(details?.error) : undefined;
    yield `${JSON.stringify({ outcome, name, reason, error })}\n`;
  }
}

/** The failure's own message (node:test wraps it in a 'test failed' error whose cause it is), cut short. */
function errorText(err) {
  const inner = err?.cause ?? err;
  const text = String(inner?.message ?? inner ?? '').trim();
  return text.length > 600 ? `${text.slice(0, 600)}…` : text;
}
