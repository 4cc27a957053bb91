// A node:test reporter that writes one JSON line per skipped test ({file, name, reason}), so
// scripts/run-tests.mjs can hold every skip against its allow-list when running in CI.
export default async function* skipsReporter(source) {
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const { skip, name, file } = event.data;
    if (skip === undefined || skip === false) continue;
    yield `${JSON.stringify({ file, name, reason: typeof skip === 'string' ? skip : '' })}\n`;
  }
}
