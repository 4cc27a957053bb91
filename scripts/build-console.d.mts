/** The types of build-console.mjs, for the tests that call it (test/console/bundle-rebuild.test.ts). */
export function buildConsole(out: string): Promise<string>;
