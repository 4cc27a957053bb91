// A node:test reporter that writes one JSON line per test outcome ({outcome, name, reason}):
// scripts/run-tests.mjs counts passes and failures across files and holds every skip against
// its allow-list when running in CI. Suites (describe blocks) are not tests and are left out.
export default async function* outcomesReporter(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { skip, todo, name, details } = event.data;
    if (details?.type === 'suite') continue;
    const skipped = skip !== undefined && skip !== false;
    const outcome = skipped ? 'skip' : todo !== undefined && todo !== false ? 'todo' : event.type === 'test:pass' ? 'pass' : 'fail';
    const reason = typeof skip === 'string' ? skip : typeof todo === 'string' ? todo : '';
    yield `${JSON.stringify({ outcome, name, reason })}\n`;
  }
}
