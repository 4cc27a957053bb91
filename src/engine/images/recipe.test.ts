/** Template recipes: parsing, defaults, errors that name the path of the problem, and hashing. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AgentboxError } from '../../api/errors.ts';
import { hashOf, parseRecipe, parseRecipeText } from './recipe.ts';

describe('recipes', () => {
  it('parses YAML with defaults and hashes independently of key order', () => {
    const a = parseRecipeText('name: t1\nfrom: {busybox: {}}\nenv: {A: "1", B: "2"}\n');
    const b = parseRecipe({ env: { B: '2', A: '1' }, from: { busybox: {} }, name: 't1' });
    assert.equal(a.user, 'root');
    assert.deepEqual(a.resources, { cpu: 1, memoryMiB: 512, pids: 1024 });
    assert.equal(hashOf(a), hashOf(b));
  });

  it('rejects bad recipes with the path of the problem', () => {
    const bad: [unknown, RegExp][] = [
      [{ name: 'Bad Name', from: { busybox: {} } }, /name/],
      [{ name: 'x', from: { busybox: {} }, packages: ['curl'] }, /packages/],
      [{ name: 'x', from: { debian: { suite: 'bookworm' } }, packages: ['no spaces allowed'] }, /packages\.0/],
      [{ name: 'x', from: { busybox: {} }, files: [{ path: 'relative', content: '' }] }, /files\.0\.path/],
      [{ name: 'x', from: { nothing: {} } }, /from/],
      [{ name: 'x', from: { busybox: {} }, resources: { memoryMiB: 1 } }, /resources\.memoryMiB/],
      [{ name: 'x', from: { busybox: {} }, unknownField: 1 }, /unrecognized|unknownField/i],
    ];
    for (const [input, where] of bad) {
      assert.throws(() => parseRecipe(input), (e: AgentboxError) => e.code === 'invalid_argument' && where.test(e.message), JSON.stringify(input));
    }
    assert.throws(() => parseRecipeText('name: [unclosed'), (e: AgentboxError) => e.code === 'invalid_argument');
  });
});
