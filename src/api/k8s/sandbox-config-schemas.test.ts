// SandboxConfig is described twice from the same constants: as the CRD's OpenAPI schema (what the
// API server enforces) and as a zod schema (what the code reading SandboxConfigs parses). This
// walks both so neither gains, loses or retypes a field, a required field, an enum, a pattern or
// a length alone, and checks the zod schema refuses what the CRD refuses.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { SANDBOX_CONFIG, SandboxConfigSpec } from './sandbox-config-schemas.ts';
import type { Schema } from './schemas.ts';

/** What both schemas must agree on; descriptions, x-kubernetes-* and JSON-Schema-only keys aside. */
function shape(s: Schema): unknown {
  const props = s.properties as Record<string, Schema> | undefined;
  return {
    type: s.type,
    required: [...((s.required as string[] | undefined) ?? [])].sort(),
    enum: s.enum,
    // zod writes `/` escaped; compare the regular expressions, not their spelling.
    pattern: typeof s.pattern === 'string' ? new RegExp(s.pattern).source : undefined,
    maxLength: s.maxLength,
    properties: props && Object.fromEntries(Object.entries(props).map(([k, v]) => [k, shape(v)])),
  };
}

const crdSpec = (SANDBOX_CONFIG.def.schema.properties as Record<string, Schema>).spec!;
const asset = (over: Record<string, unknown> = {}) => ({ url: 'https://example.com/runsc', sha256: 'a'.repeat(64), ...over });
const spec = (over: Record<string, unknown> = {}) => ({ class: 'gvisor', default: true, runtime: { version: 'release-20250512.0', assets: { amd64: asset(), arm64: asset({ url: 'file:///opt/runsc' }) } }, ...over });

describe('SandboxConfig schemas', () => {
  it('the zod schema has the fields, required fields, enums, patterns and lengths of the CRD schema', () => {
    assert.deepEqual(shape(z.toJSONSchema(SandboxConfigSpec) as Schema), shape(crdSpec));
  });

  it('parses a good spec as it is', () => {
    assert.deepEqual(SandboxConfigSpec.parse(spec()), spec());
  });

  it('refuses an asset whose sha256 is missing, short, upper-case or not hex, or whose URL is not https:// or file:///', () => {
    const bad = [
      { url: 'https://example.com/runsc' }, asset({ sha256: 'a'.repeat(63) }), asset({ sha256: 'A'.repeat(64) }), asset({ sha256: 'g'.repeat(64) }),
      asset({ url: 'http://example.com/runsc' }), asset({ url: 'file://host/runsc' }), asset({ url: 'https://' }), { sha256: 'a'.repeat(64) },
    ];
    for (const amd64 of bad) {
      const r = SandboxConfigSpec.safeParse(spec({ runtime: { assets: { amd64 } } }));
      assert.equal(r.success, false, JSON.stringify(amd64));
      assert.deepEqual(r.error!.issues[0]!.path.slice(0, 3), ['runtime', 'assets', 'amd64']);
    }
  });

  it('refuses an unknown class and an empty assets map', () => {
    assert.equal(SandboxConfigSpec.safeParse(spec({ class: 'runc' })).success, false);
    const empty = SandboxConfigSpec.safeParse(spec({ runtime: { assets: {} } }));
    assert.match(empty.error?.issues[0]?.message ?? 'parsed', /must name at least one architecture/);
  });
});
