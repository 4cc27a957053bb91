#!/usr/bin/env node
// Regenerates every stub from spec/: spec/envd/*.proto → src/guest/gen/*_pb.ts through buf and
// protoc-gen-es (both npm devDependencies, so no network and no global installs).
// Usage: npm run generate
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'node_modules', '.bin');
const result = spawnSync(join(bin, 'buf'), ['generate', 'spec/envd', '--template', 'buf.gen.yaml'], {
  cwd: root,
  stdio: 'inherit',
  // buf finds the local protoc-gen-es plugin on PATH.
  env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
});
if (result.status !== 0) {
  console.error(`buf generate failed (exit ${result.status ?? result.signal})`);
  process.exit(1);
}
