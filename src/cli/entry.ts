// The `agentbox` process entry of the bundled build (scripts/build.mjs → dist/agentbox.mjs);
// bin/agentbox.mjs does the same over the TypeScript sources.
import { runProcess } from './main.ts';

await runProcess(process.argv.slice(2));
