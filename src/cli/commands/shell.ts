/** `shell ID`: an interactive terminal in a sandbox (PTY through the guest). */
import { ApiClient } from '../../sdk/api-client.ts';
import { resolveConnection } from '../../sdk/config.ts';
import { EnvdClient } from '../../sdk/envd.ts';
import { Pty } from '../../sdk/pty.ts';
import { flagsOf } from '../command-table.ts';
import { parseFlags, UsageError, type Command } from '../io.ts';

export const shell: Command = async (args, io) => {
  const dash = args.indexOf('--');
  const { flags, positionals } = parseFlags(dash < 0 ? args : args.slice(0, dash), flagsOf('shell'));
  if (positionals.length !== 1) throw new UsageError('usage: agentbox shell ID [--user U] [--cwd DIR] [-- CMD…]');
  const id = positionals[0]!;
  const api = new ApiClient(resolveConnection({}, io.env));
  await api.json('GET', `/v1/sandboxes/${id}`);
  const stdin = process.stdin;
  const out = process.stdout;
  const term = await new Pty(new EnvdClient(api, id)).create({
    cols: out.columns ?? 80, rows: out.rows ?? 24, onData: (d) => io.stdout.write(d),
    ...(dash >= 0 ? { cmd: args.slice(dash + 1) } : {}),
    ...(flags.user ? { user: flags.user } : {}), ...(flags.cwd ? { cwd: flags.cwd } : {}),
  });
  const raw = stdin.isTTY;
  if (raw) stdin.setRawMode(true);
  const onInput = (d: Buffer) => { term.sendInput(d).catch(() => undefined); };
  const onResize = () => { term.resize({ cols: out.columns ?? 80, rows: out.rows ?? 24 }).catch(() => undefined); };
  stdin.on('data', onInput);
  stdin.resume();
  out.on('resize', onResize);
  try {
    const end = await term.wait();
    return end.exitCode < 0 ? 137 : end.exitCode;
  } finally {
    stdin.off('data', onInput);
    out.off('resize', onResize);
    if (raw) stdin.setRawMode(false);
    stdin.pause();
  }
};
