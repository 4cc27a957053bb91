#!/usr/bin/env node
// Regenerates every stub from spec/ through buf and protoc-gen-es (both npm devDependencies, so no
// network and no global installs): spec/envd/*.proto → src/guest/gen/*_pb.ts (buf.gen.yaml) and
// spec/keda/*.proto → src/k8s/keda/gen/*_pb.ts (buf.gen.keda.yaml).
// Usage: npm run generate
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

const root = fileURLToPath(new URL('..', import.meta.url));
const bin = join(root, 'node_modules', '.bin');
const targets = [['spec/envd', 'buf.gen.yaml'], ['spec/keda', 'buf.gen.keda.yaml']];
for (const [input, template] of targets) {
  const result = spawnSync(join(bin, 'buf'), ['generate', input, '--template', template], {
    cwd: root,
    stdio: 'inherit',
    // buf finds the local protoc-gen-es plugin on PATH.
    env: { ...process.env, PATH: `${bin}:${process.env.PATH ?? ''}` },
  });
  if (result.status !== 0) {
    console.error(`buf generate ${input} failed (exit ${result.status ?? result.signal})`);
    process.exit(1);
  }
}
