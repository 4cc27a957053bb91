#!/usr/bin/env node
// The `agentbox` command. agentbox ships TypeScript sources run through tsx (no build step), so
// the loader is registered here before the CLI itself is imported.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
