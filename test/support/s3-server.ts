// A real S3-compatible server for tests (moto's server mode, installed by scripts/s3-server.sh),
// on a free loopback port, with one bucket. moto accepts any credentials; the client reads them
// from the environment as the node agent's DaemonSet gets them from its Secret.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { skipOutsideCI } from './ci.ts';

export const MOTO_SERVER = join(process.env.AGENTBOX_S3_SERVER ?? join(homedir(), '.cache/agentbox/s3'), 'venv/bin/moto_server');

export interface RunningS3 { endpoint: string; bucket: string; client: S3Client; stop(): Promise<void> }

const freePort = () => new Promise<number>((resolve, reject) => {
  const srv = createServer().listen(0, '127.0.0.1', () => {
    const { port } = srv.address() as { port: number };
    srv.close(() => resolve(port));
  }).once('error', reject);
});

/** Why an S3 test cannot run here (skipOutsideCI: a failure under CI), or undefined. */
export const s3Skip = (): string | undefined =>
  existsSync(MOTO_SERVER) ? undefined : skipOutsideCI('moto_server is not installed', 'run bash scripts/s3-server.sh');

export async function startS3Server(bucket: string): Promise<RunningS3> {
  process.env.AWS_ACCESS_KEY_ID ??= 'agentbox-test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'agentbox-test';
  const port = await freePort();
  const proc: ChildProcess = spawn(MOTO_SERVER, ['-H', '127.0.0.1', '-p', String(port)], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  proc.stderr!.on('data', (d: Buffer) => { stderr += d; });
  const exited = new Promise<never>((_, reject) => proc.once('exit', (code) => reject(new Error(`moto_server exited (${code}): ${stderr.slice(-2000)}`))));
  const endpoint = `http://127.0.0.1:${port}`;
  // Ready once it answers (moto logs to stderr when it listens; an answer is the surer sign).
  const ready = (async () => {
    for (;;) {
      try { if ((await fetch(endpoint)).status < 500) return; } catch { /* not listening yet */ }
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  await Promise.race([ready, exited, new Promise((_, reject) => setTimeout(() => reject(new Error(`moto_server not answering after 60 s: ${stderr.slice(-2000)}`)), 60_000))]);
  const client = new S3Client({ region: 'us-east-1', endpoint, forcePathStyle: true });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return {
    endpoint, bucket, client,
    async stop() {
      client.destroy();
      exited.catch(() => undefined);
      if (proc.exitCode === null) {
        const gone = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await gone;
      }
    },
  };
}
