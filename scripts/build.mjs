// Bundles the `agentbox` command into dist/ with esbuild, so the operator and router start without
// compiling TypeScript at run time (tsx) and load only the modules their command needs: each
// lazily imported command is its own chunk. Native addons stay external (they are loaded from
// node_modules by the commands that need them, never by the operator or router). The web console
// goes beside it, into dist/console/ (where src/gateway/console.ts looks when it runs bundled), so
// a server started from dist/ serves /ui.
// Usage: npm run build [-- OUTDIR]   →   node dist/agentbox.mjs <command> …   (OUTDIR: dist/)
import { build } from 'esbuild';
import { rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { buildConsole } from './build-console.mjs';

const root = new URL('..', import.meta.url).pathname;
const outdir = resolve(root, process.argv[2] ?? 'dist');
rmSync(outdir, { recursive: true, force: true });
const result = await build({
  absWorkingDir: root,
  entryPoints: { agentbox: 'src/cli/entry.ts' },
  outdir,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  minifySyntax: true,
  sourcemap: 'linked',
  external: ['better-sqlite3', 'node-pty', 'esbuild'],
  // CommonJS dependencies call require(); ESM output gives them one.
  banner: { js: "import { createRequire as __agentboxRequire } from 'node:module'; const require = __agentboxRequire(import.meta.url);" },
  metafile: true,
  logLevel: 'warning',
});
const sizes = Object.entries(result.metafile.outputs).filter(([f]) => f.endsWith('.mjs')).map(([, o]) => o.bytes);
console.log(`${outdir}/agentbox.mjs and ${sizes.length - 1} chunks, ${(sizes.reduce((a, b) => a + b, 0) / 1e6).toFixed(1)} MB`);
console.log(`${outdir}/console: ${await buildConsole(`${outdir}/console`)}`);
