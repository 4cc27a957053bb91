// The command host (command-host.ts): tools run in its process with the engine's inputs and
// outcomes, a host that ends fails what it was running and is replaced, and one that cannot
// run at all leaves the tools to the caller's process.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../test/support/wait.ts';
import { CommandHost, runHere, type CommandOutcome, type ToolRequest } from './command-host.ts';

const tool = (file: string, args: string[], more: Partial<ToolRequest> = {}): ToolRequest => ({ file, args, env: process.env, input: '', ...more });

function ended(o: CommandOutcome): Extract<CommandOutcome, { ended: true }> {
  assert.ok(o.ended, `the tool ran: ${JSON.stringify(o)}`);
  return o;
}

describe('command host', () => {
  it('runs tools in its own process, with their input, output, exit status and output file', async () => {
    const host = new CommandHost();
    try {
      const parent = ended(await host.run(tool('/bin/sh', ['-c', 'echo $PPID']))!);
      assert.equal(Number(parent.stdout.toString()), host.pid, 'the host, not this process, is the parent');
      assert.notEqual(host.pid, process.pid);
      assert.equal(readFileSync(`/proc/${host.pid}/cmdline`, 'utf8').split('\0')[0], 'agentbox command host', 'ps names it');

      const echoed = ended(await host.run(tool('/bin/sh', ['-c', 'cat; echo oops >&2; exit 3'], { input: Buffer.from('in\0put') }))!);
      assert.deepEqual([echoed.code, echoed.stdout.toString(), echoed.stderr.toString()], [3, 'in\0put', 'oops\n']);

      const chunks: string[] = [];
      await host.run(tool('/bin/sh', ['-c', 'echo a; sleep 0.1; echo b']), (c) => chunks.push(c));
      assert.equal(chunks.join(''), 'a\nb\n');
      assert.ok(chunks.length >= 2, 'output arrives as it is written');

      const file = join(mkdtempSync(join(tmpdir(), 'command-host-')), 'log');
      ended(await host.run(tool('/bin/sh', ['-c', 'echo one; echo two >&2'], { outputFile: file }))!);
      ended(await host.run(tool('/bin/echo', ['three'], { outputFile: file }))!);
      assert.equal(readFileSync(file, 'utf8'), 'one\ntwo\nthree\n');

      const missing = await host.run(tool('/nonexistent/tool', []))!;
      assert.deepEqual([missing.ended, !missing.ended && missing.code], [false, 'ENOENT']);

      const timedOut = ended(await host.run(tool('/bin/sleep', ['5'], { timeoutMs: 100 }))!);
      assert.equal(timedOut.signal, 'SIGKILL');
    } finally {
      host.stop();
    }
  });

  it('kills an aborted tool and settles at once', async () => {
    const host = new CommandHost();
    try {
      const abort = new AbortController();
      let pid = 0;
      const running = host.run(tool('/bin/sh', ['-c', 'echo $$; exec sleep 30']), (c) => { pid = Number(c); abort.abort(); }, abort.signal)!;
      const outcome = await running;
      assert.deepEqual([outcome.ended, !outcome.ended && outcome.code], [false, 'ABORT_ERR']);
      await waitFor('the aborted tool to be gone', () => pid > 0 && !existsSync(`/proc/${pid}`));
    } finally {
      host.stop();
    }
  });

  it('fails the tools of a host that ended mid-way, and starts a new host for the next', async () => {
    const host = new CommandHost();
    try {
      ended(await host.run(tool('/bin/true', []))!);
      const first = host.pid!;
      const running = host.run(tool('/bin/sleep', ['2']))!;
      process.kill(first, 'SIGKILL');
      const outcome = await running;
      assert.equal(outcome.ended, false, 'it may or may not have run: it fails rather than run twice');
      assert.match(!outcome.ended ? outcome.message : '', /command host ended while \/bin\/sleep ran/);
      const parent = ended(await host.run(tool('/bin/sh', ['-c', 'echo $PPID']))!);
      assert.notEqual(Number(parent.stdout.toString()), first);
      assert.equal(Number(parent.stdout.toString()), host.pid);
    } finally {
      host.stop();
    }
  });

  it('leaves the tools to this process when the host cannot run, those already sent too', async () => {
    const host = new CommandHost('/nonexistent/node');
    const sent = host.run(tool('/bin/sh', ['-c', 'echo $PPID']));
    assert.ok(sent, 'sent before the host is known not to run');
    assert.equal(Number(ended(await sent).stdout.toString()), process.pid);
    assert.equal(host.run(tool('/bin/true', [])), undefined, 'later tools are the caller\'s to run');
    assert.equal(Number(ended(await runHere(tool('/bin/sh', ['-c', 'echo $PPID']))).stdout.toString()), process.pid);
  });
});

describe('a stopped command host', () => {
  it('finishes the tools it runs before it goes, and takes no new one', async () => {
    const host = new CommandHost();
    const running = host.run(tool('/bin/sh', ['-c', 'sleep 0.2; echo done']))!;
    const pid = host.pid!;
    host.stop();
    assert.equal(host.run(tool('/bin/true', [])), undefined, 'new tools are the caller\'s to run');
    assert.equal(ended(await running).stdout.toString(), 'done\n');
    await waitFor('the host to exit', () => !existsSync(`/proc/${pid}`));
  });
});
