// The `agentbox` process entry of the bundled build (scripts/build.mjs → dist/agentbox.mjs);
// bin/agentbox.mjs does the same over the TypeScript sources.
import { main } from './main.ts';

process.exitCode = await main(process.argv.slice(2));
