// Builds the shipped templates (templates/*.yaml) into the layer cache (~/.cache/agentbox/layers),
// so that no test pays a template's first build inside its own timeout: a cold `base` is
// mmdebstrap of some 570 packages, the code interpreter's of some 760, minutes each on a fresh
// machine. Idempotent: an unchanged recipe is found in the cache in about a second.
// node --import tsx scripts/shipped-templates.ts [name ...]   (default: every shipped template)
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openTemplateStore } from '../src/engine/index.ts';

// The layers are what is cached; the built templates' records go to a throwaway home.
const home = await mkdtemp(join(tmpdir(), 'agentbox-shipped-templates-'));
try {
  const store = await openTemplateStore({ home });
  for (const name of process.argv.length > 2 ? process.argv.slice(2) : store.shippedNames()) {
    const started = Date.now();
    await store.ensure(name, (e) => console.log(`shipped-templates: ${name}: ${e.message}`));
    console.log(`shipped-templates: ${name} ready (${Math.round((Date.now() - started) / 1000)} s)`);
  }
} finally {
  await rm(home, { recursive: true, force: true });
}
