// test-file-timeout: 20 min
// An agent framework's sandbox backend over the OpenSandbox SDK, unchanged, against the real
// server over gVisor: PyPI `agent-sandbox-backends` (the backend Deep Agents is handed; its tool
// functions called directly, no model) runs framework.py in its own virtualenv. In CI a missing
// install fails the suite (test/support/ci.ts).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, test } from 'node:test';
import { skipOutsideCI } from '../support/ci.ts';
import { startRealServer, type RealServer } from '../support/real-server.ts';
import { openSandboxSdks } from './fixture.ts';

const FRAMEWORK = 'agent-sandbox-backends';
const sdks = openSandboxSdks();
const framework = typeof sdks === 'string' ? undefined : sdks.frameworks?.find((f) => f.name === FRAMEWORK);
const skip = typeof sdks === 'string' ? sdks
  : framework ? false : skipOutsideCI(`PyPI ${FRAMEWORK} is not installed (not in the OpenSandbox SDK manifest)`, 'run bash scripts/opensandbox-sdks.sh');
let srv: RealServer | undefined;
let skipServer: string | false = false;

before(async () => {
  if (skip) return;
  const s = await startRealServer('os-framework', { runtime: 'gvisor' });
  if (typeof s === 'string') { skipServer = s; return; }
  srv = s;
  await srv.created.templates.ensure('base');
});
after(async () => { await srv?.stop(); });

describe(`PyPI ${FRAMEWORK} over the OpenSandbox SDK`, { skip }, () => {
  test(`${FRAMEWORK} ${framework?.version ?? ''}: create, commands, files, delete on close`, async (t) => {
    if (skipServer) return t.skip(skipServer);
    const run = promisify(execFile)(framework!.python, [join(import.meta.dirname, 'framework.py')], {
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', OPEN_SANDBOX_DOMAIN: `${srv!.server.url}/opensandbox`, OPEN_SANDBOX_API_KEY: srv!.server.adminKey },
      encoding: 'utf8', timeout: 600_000,
    });
    const { stdout } = await run.catch((err: { stderr?: string }) => assert.fail(`framework.py failed:\n${String(err.stderr).slice(-4000)}`));
    const sandboxId = stdout.trim().split('\n').at(-1)!;
    // The backend's cleanup policy (on close) deleted the sandbox it created: killed, says the native API.
    const gone = await srv!.api(`/v1/sandboxes/${sandboxId}`);
    assert.equal(gone.status, 410, `sandbox ${sandboxId} outlived the backend`);
    assert.equal((await gone.json()).details.reason, 'killed');
  });
});
