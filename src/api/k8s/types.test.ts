// types.ts (what the operator reads and writes) and schemas.ts (what the API server enforces, the
// CRD source) describe the same four kinds by hand, and snapshot-schemas.ts agentbox's SandboxSnapshot; this walks every field of the TypeScript
// shapes against the v1beta1 schemas, so neither can gain, lose or retype a field alone.
// The core Kubernetes objects the CRDs embed (PodSpec, PVC spec, NetworkPolicy rules, generated
// into core-schemas.gen.ts from Kubernetes' own OpenAPI) are typed loosely on purpose in types.ts
// and not walked, nor is anything opaque. v1alpha1 has no TS shapes:
// the operator reads every kind at the hub version (src/k8s/resources.ts).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import ts from 'typescript';
import { SANDBOX, SANDBOX_CLAIM, SANDBOX_TEMPLATE, SANDBOX_WARM_POOL, type Schema } from './schemas.ts';
import { SANDBOX_SNAPSHOT } from './snapshot-schemas.ts';
import * as core from './core-schemas.gen.ts';

const typesFile = new URL('./types.ts', import.meta.url).pathname;
const program = ts.createProgram([typesFile], { strict: true, noEmit: true, skipLibCheck: true, types: [] });
const checker = program.getTypeChecker();
const exported = new Map(checker.getExportsOfModule(checker.getSymbolAtLocation(program.getSourceFile(typesFile)!)!)
  .map((s) => [s.name, checker.getDeclaredTypeOfSymbol(s)]));

const CORE: ReadonlySet<Schema> = new Set(Object.values(core));

/** Fields every object has from KubeObject; the schema leaves them to the API server. */
const TYPE_META = new Set(['apiVersion', 'kind', 'metadata']);

const props = (s: Schema) => (s.properties ?? {}) as Record<string, Schema>;
const show = (t: ts.Type) => checker.typeToString(t);

/** Every disagreement between a TS type and a schema, as `path: what`. */
function compare(t: ts.Type, s: Schema, path: string, out: string[], skip: ReadonlySet<string> = new Set()): void {
  if (s['x-kubernetes-preserve-unknown-fields'] || CORE.has(s)) return;
  const type = checker.getNonNullableType(t);
  switch (s.type) {
    case 'object': {
      if (s.additionalProperties) {
        const values = checker.getIndexInfoOfType(type, ts.IndexKind.String)?.type;
        if (!values) { out.push(`${path}: schema is a map, TS is ${show(type)}`); return; }
        compare(values, s.additionalProperties as Schema, `${path}[*]`, out);
        return;
      }
      const want = props(s);
      const required = new Set((s.required ?? []) as string[]);
      const have = new Map(checker.getPropertiesOfType(type).filter((p) => !skip.has(p.name)).map((p) => [p.name, p]));
      for (const name of Object.keys(want)) {
        if (skip.has(name)) continue;
        const p = have.get(name);
        if (!p) { out.push(`${path}.${name}: in the schema, not in TS`); continue; }
        const optional = (p.flags & ts.SymbolFlags.Optional) !== 0;
        if (optional === required.has(name)) out.push(`${path}.${name}: ${optional ? 'optional in TS, required' : 'required in TS, optional'} in the schema`);
        compare(checker.getTypeOfSymbol(p), want[name]!, `${path}.${name}`, out);
      }
      for (const name of have.keys()) if (!(name in want)) out.push(`${path}.${name}: in TS, not in the schema`);
      return;
    }
    case 'array': {
      const element = checker.isArrayType(type) ? checker.getTypeArguments(type as ts.TypeReference)[0] : undefined;
      if (!element) { out.push(`${path}: schema is an array, TS is ${show(type)}`); return; }
      compare(element, s.items as Schema, `${path}[]`, out);
      return;
    }
    case 'string': {
      if (s.enum) {
        const members = type.isUnion() ? type.types : [type];
        const literals = members.map((m) => (m.isStringLiteral() ? m.value : undefined));
        const same = literals.every((v) => v !== undefined) && [...literals].sort().join('|') === [...(s.enum as string[])].sort().join('|');
        if (!same) out.push(`${path}: schema enum ${(s.enum as string[]).join('|')}, TS ${show(type)}`);
      } else if (show(type) !== 'string') out.push(`${path}: schema string, TS ${show(type)}`);
      return;
    }
    case 'integer':
      if (show(type) !== 'number') out.push(`${path}: schema integer, TS ${show(type)}`);
      return;
    case 'boolean':
      if (show(type) !== 'boolean') out.push(`${path}: schema boolean, TS ${show(type)}`);
      return;
    default:
      out.push(`${path}: schema type ${String(s.type)} is not walked by this test`);
  }
}

/** Each kind's TS shape name and its schema at the version the operator reads (hub, or the only one). */
const KINDS: [string, Schema][] = [
  ...[SANDBOX, SANDBOX_TEMPLATE, SANDBOX_CLAIM, SANDBOX_WARM_POOL].map((k) => [k.kind, k.v1beta1.schema] as [string, Schema]),
  [SANDBOX_SNAPSHOT.kind, SANDBOX_SNAPSHOT.def.schema],
];

describe('Kubernetes kinds: types.ts agrees with their schemas', () => {
  for (const [name, schema] of KINDS) {
    it(name, () => {
      const type = exported.get(name);
      assert.ok(type, `types.ts exports ${name}`);
      const out: string[] = [];
      compare(type, schema, name, out, TYPE_META);
      assert.deepEqual(out, []);
    });
  }

  it('notices a disagreement (the walk is not vacuous)', () => {
    const out: string[] = [];
    const spec = props(SANDBOX.v1beta1.schema).spec!;
    const { podFailurePolicy: _dropped, ...kept } = props(spec);
    const drifted = { ...spec, properties: { ...kept, operatingMode: { type: 'string', enum: ['Running'] }, extra: { type: 'string' } } };
    compare(checker.getTypeOfSymbol(exported.get('Sandbox')!.getProperty('spec')!), drifted, 'spec', out);
    assert.deepEqual(out.sort(), [
      'spec.extra: in the schema, not in TS',
      'spec.operatingMode: schema enum Running, TS OperatingMode',
      'spec.podFailurePolicy: in TS, not in the schema',
    ]);
  });
});
