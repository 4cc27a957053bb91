// Builds the shipped templates (templates/*.yaml) into the layer cache (~/.cache/agentbox/layers),
// so that no test pays a template's first build inside its own timeout: a cold `base` is
// mmdebstrap of some 570 packages, the code interpreter's of some 760, minutes each on a fresh
// machine. Idempotent: an unchanged recipe is found in the cache in about a second.
// node --import tsx scripts/shipped-templates.ts [name ...]   (default: every shipped template)
import { join } from 'node:path';
import { openTemplateStore } from '../src/engine/index.ts';
import { SHIPPED_TEMPLATES_DIR, TemplateStore } from '../src/engine/images/template-store.ts';
import { defaultCacheDir } from '../src/engine/runtime/runtime-classes.ts';

// The layers are what is cached; the templates' records and the build sandboxes' runtime state go
// to a home of this script's own, kept: runsc leaves a namespace mounted in its state directory,
// so a throwaway home could not be removed.
const store = await openTemplateStore({ home: join(defaultCacheDir(), 'shipped-templates') });
for (const name of process.argv.length > 2 ? process.argv.slice(2) : store.shippedNames()) {
  const started = Date.now();
  // build, not ensure: ensure would take this home's record of an older recipe as built.
  const recipe = await TemplateStore.readRecipe(join(SHIPPED_TEMPLATES_DIR, `${name}.yaml`));
  await store.build(recipe, (e) => console.log(`shipped-templates: ${name}: ${e.message}`));
  console.log(`shipped-templates: ${name} ready (${Math.round((Date.now() - started) / 1000)} s)`);
}
