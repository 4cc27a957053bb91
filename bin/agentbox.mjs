#!/usr/bin/env node
// The `agentbox` command. From a checkout it runs the TypeScript sources through tsx (no build
// step, so an edit is live at once). Where only the bundled build is shipped (`npm run build` →
// dist/, as in deploy/docker/operator.Dockerfile) it runs that: no run-time compiling, a fraction
// of the start-up time and memory. The sources win when both are there, so a stale dist/ can
// never shadow an edit.
import { existsSync } from 'node:fs';

const root = new URL('..', import.meta.url);
if (!existsSync(new URL('src/cli/main.ts', root)) && existsSync(new URL('dist/agentbox.mjs', root))) {
  await import(new URL('dist/agentbox.mjs', root).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  const { runProcess } = await import('../src/cli/main.ts');
  await runProcess(process.argv.slice(2));
}
