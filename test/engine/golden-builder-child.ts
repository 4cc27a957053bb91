// An engine process for golden.test.ts, which SIGKILLs it while it builds a golden snapshot:
// `node --import tsx golden-builder-child.ts <home>` creates one sandbox, waits until the hidden
// builder of its template's golden snapshot runs, prints {"sandbox", "builder"} and waits.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestEngine } from './fixture.ts';
import { waitFor } from '../support/wait.ts';

const home = process.argv[2]!;
const t = await startTestEngine('golden-crash', { home });
await t.templates.ensure('busybox');
const s = await t.engine.run({ template: 'busybox' });
const builder = await waitFor('the golden snapshot builder to run', () => {
  for (const id of readdirSync(join(home, 'sandboxes'))) {
    if (id === s.id) continue;
    let record: { state: string; golden?: boolean };
    try {
      record = JSON.parse(readFileSync(join(home, 'sandboxes', id, 'record.json'), 'utf8')) as typeof record;
    } catch {
      continue; // its directory is made before its record
    }
    if (record.golden && record.state === 'running') return id;
  }
  return null;
}, 120_000, 20);
console.log(JSON.stringify({ sandbox: s.id, builder }));
await new Promise(() => undefined);
