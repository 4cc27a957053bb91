/**
 * A shipped template built by an older agentbox is rebuilt from the recipe the upgrade ships,
 * while a template an admin built under a shipped name stays theirs. Real builds of a busybox
 * recipe (no steps, so no sandbox) into the shared layer cache.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { parseRecipe } from '../../src/engine/images/recipe.ts';
import { TemplateStore } from '../../src/engine/images/template-store.ts';
import { defaultCacheDir } from '../../src/engine/runtime/runtime-classes.ts';

const recipeYaml = (name: string, motd: string) =>
  `name: ${name}\ndescription: ${motd}\nfrom:\n  busybox: {}\nenv:\n  MOTD: ${motd}\n`;

describe('shipped templates across an upgrade', () => {
  let scratch: string;
  let home: string;
  let shippedDir: string;
  const noSteps = () => Promise.reject(new Error('these recipes have no steps'));
  // A store as an agentbox release opens it: the same home, that release's shipped recipes.
  const release = () => new TemplateStore({ home, cacheDir: defaultCacheDir(), runSteps: noSteps, shippedDir });

  before(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'agentbox-upgrade-'));
    home = join(scratch, 'home');
    shippedDir = join(scratch, 'shipped');
    await mkdir(shippedDir);
    for (const name of ['mini', 'tiny', 'legacy']) await writeFile(join(shippedDir, `${name}.yaml`), recipeYaml(name, 'v1'));
  });
  after(() => rm(scratch, { recursive: true, force: true }));

  it('rebuilds a shipped build from the new recipe, keeps an admin\'s own recipe, and counts an unmarked record as shipped', async () => {
    const v1 = release();
    const mini = await v1.ensure('mini');
    assert.equal(mini.shipped, true);
    assert.equal(mini.config.env.MOTD, 'v1');
    // An admin builds their own recipe under the shipped name 'tiny'.
    const own = await v1.build(parseRecipe({ name: 'tiny', from: { busybox: {} }, env: { MOTD: 'admin' } }));
    assert.equal(own.shipped, false);
    // A record written before agentbox marked shipped builds: as v1 wrote it, without the field.
    const legacy = await v1.ensure('legacy');
    const legacyFile = join(home, 'templates', 'legacy.json');
    const unmarked = JSON.parse(await readFile(legacyFile, 'utf8')) as Record<string, unknown>;
    delete unmarked.shipped;
    await writeFile(legacyFile, JSON.stringify(unmarked));
    assert.deepEqual(release().outdatedShipped(), [], 'nothing is outdated while the shipped recipes are unchanged');

    // The upgrade ships new recipes for all three names.
    for (const name of ['mini', 'tiny', 'legacy']) await writeFile(join(shippedDir, `${name}.yaml`), recipeYaml(name, 'v2'));
    const v2 = release();
    assert.deepEqual(v2.outdatedShipped().sort(), ['legacy', 'mini']);
    assert.equal(v2.find('mini')!.buildId, mini.buildId, 'the old build serves until the rebuild is done');

    const rebuilt = await v2.refreshShipped('mini');
    assert.equal(rebuilt.config.env.MOTD, 'v2');
    assert.notEqual(rebuilt.buildId, mini.buildId);
    assert.equal(v2.find('mini')!.buildId, rebuilt.buildId);
    await v2.refreshShipped('legacy');
    assert.notEqual(v2.find('legacy')!.buildId, legacy.buildId);
    assert.deepEqual(v2.outdatedShipped(), []);
    assert.equal(v2.find('tiny')!.config.env.MOTD, 'admin', 'the admin\'s own recipe is kept');
    assert.throws(() => v2.refreshShipped('nope'), { code: 'not_found' });
  });
});
