// `agentbox completion bash|zsh`, loaded into the real bash and zsh (scripts/cli-shells.sh) and
// asked what they complete, with sandbox ids from a real server (over the fake engine: no
// sandbox runs here, only `ls --quiet` and `template ls --quiet` are asked). zsh's completion
// builtins (compadd, _describe) work only inside a live completion widget, which needs an
// interactive terminal: here they are stand-ins that print what they are given and, as the real
// ones do, keep only the words that start with $PREFIX (the word being completed).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { COMMANDS, type CommandEntry } from '../../src/cli/command-table.ts';
import { main } from '../../src/cli/main.ts';
import { startFakeServer, type FakeServer } from '../support/fake-server.ts';
import { bin, runCli } from './run-cli.ts';

let s: FakeServer;
let dir: string;
let env: Record<string, string>;

before(async () => {
  s = await startFakeServer();
  dir = mkdtempSync(join(tmpdir(), 'agentbox-completion-'));
  // The scripts complete the command named `agentbox`, as installed on PATH.
  symlinkSync(bin, join(dir, 'agentbox'));
  env = { PATH: `${dir}:${process.env.PATH ?? ''}`, AGENTBOX_URL: s.server.url, AGENTBOX_API_KEY: s.server.adminKey, AGENTBOX_HOME: dir };
});
after(async () => {
  await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Runs `script` in `shell` with the completion script loaded; its stdout's words. Async: the server answering `ls --quiet` is in this process. */
async function complete(shell: 'bash' | 'zsh', script: string): Promise<string[]> {
  const load = shell === 'bash' ? 'source <(agentbox completion bash)' : `autoload -Uz compinit && compinit -u -d ${dir}/zcompdump && source <(agentbox completion zsh)`;
  // No startup files (bash reads ~/.bashrc when its stdin is a socket, as Node's pipes are).
  const args = shell === 'zsh' ? ['-f', '-c', `${load}\n${script}`] : ['--norc', '--noprofile', '-c', `${load}\n${script}`];
  const r = await promisify(execFile)(shell, args, { env, encoding: 'utf8', timeout: 60_000 });
  assert.equal(r.stderr, '');
  return r.stdout.split(/\s+/).filter(Boolean);
}

const bashAt = (...words: string[]) => complete('bash', `COMP_WORDS=(${words.map((w) => `'${w}'`).join(' ')}); COMP_CWORD=${words.length - 1}; _agentbox; echo "\${COMPREPLY[*]}"`);
const ZSH_STANDINS = `compadd() { [[ $1 == -- ]] && shift; print -l -- \${(M)@:#$PREFIX*}; }
_describe() { print -l -- \${(M)\${\${(P)2}%%:*}:#$PREFIX*}; }`;
const zshAt = (...words: string[]) => complete('zsh', `${ZSH_STANDINS}\nwords=(${words.map((w) => `'${w}'`).join(' ')}); CURRENT=${words.length}; PREFIX='${words.at(-1)}'; _agentbox`);

test('bash completes commands from the command table, subcommands and sandbox ids', async () => {
  const id = (await runCli(['create', '--template', 'busybox'], { env })).stdout.trim();
  assert.deepEqual(await bashAt('agentbox', ''), Object.keys(COMMANDS));
  assert.deepEqual(await bashAt('agentbox', 'te'), ['template', 'tenant']);
  assert.deepEqual(await bashAt('agentbox', 'template', ''), ['build', 'import', 'ls', 'export']);
  assert.deepEqual(await bashAt('agentbox', 'exec', ''), [id]);
  assert.deepEqual(await bashAt('agentbox', 'logs', id.slice(0, 3)), [id]);
  assert.deepEqual(await bashAt('agentbox', 'completion', 'z'), ['zsh']);
});

test('zsh registers the completion and offers the same words', async () => {
  const id = (await runCli(['ls', '--quiet'], { env })).stdout.trim().split('\n')[0]!;
  assert.deepEqual(await complete('zsh', 'print -- $_comps[agentbox]'), ['_agentbox']);
  assert.deepEqual(await zshAt('agentbox', ''), Object.keys(COMMANDS));
  assert.deepEqual(await zshAt('agentbox', 'pool', ''), ['set', 'ls']);
  assert.deepEqual(await zshAt('agentbox', 'kill', ''), [id]);
});

/** The server's template names, asked of its API (not of the CLI the scripts call). */
async function templateNames(): Promise<string[]> {
  const { templates } = await (await s.api('/v1/templates')).json() as { templates: { name: string }[] };
  assert.ok(templates.length > 0, 'the server has templates to offer');
  return templates.map((t) => t.name);
}

test('bash and zsh complete flags from the command table and their values', async () => {
  const names = await templateNames();
  for (const at of [bashAt, zshAt]) {
    assert.deepEqual(await at('agentbox', 'create', '--te'), ['--template']);
    assert.deepEqual(await at('agentbox', 'create', '--template', ''), names);
    assert.deepEqual(await at('agentbox', 'create', '--runtime', ''), ['gvisor', 'runc']);
    assert.deepEqual(await at('agentbox', 'ls', '--st'), ['--state']);
    assert.deepEqual(await at('agentbox', 'exec', '--'), COMMANDS.exec.flags.map((f) => `--${f.name}`));
    // A value only the user knows: nothing is offered, not the command's subcommands.
    assert.deepEqual(await at('agentbox', 'pool', '--size', ''), []);
  }
});

test('every flag in the command table is accepted by its command\'s parser', async () => {
  const table: [string, CommandEntry][] = Object.entries(COMMANDS);
  let checked = 0;
  for (const [name, entry] of table) {
    // The first subcommand, for commands that parse their flags after one; `--` ends exec's and shell's options.
    const sub = Array.isArray(entry.completes) ? [entry.completes[0]!] : [];
    for (const flag of entry.flags ?? []) {
      for (const spelling of [`--${flag.name}`, ...(flag.short ? [`-${flag.short}`] : [])]) {
        // The parser reads left to right: an unknown flag placed after this one is the error only if this one was taken.
        const stderr = new PassThrough();
        const code = await main([name, ...sub, spelling, ...(flag.value ? ['x'] : []), '--not-a-flag', '--', 'true'], { stdin: Readable.from([]), stdout: new PassThrough(), stderr, env });
        assert.deepEqual([code, String(stderr.read())], [2, `agentbox ${name}: unknown option --not-a-flag\n`], `${name} ${spelling}`);
        checked++;
      }
    }
  }
  assert.ok(checked > 50, `${checked} flags checked`);
});
