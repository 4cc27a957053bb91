/**
 * Timing a file's upload and download through an HTTP files route (the guest's /files, the native
 * API's files route), each answer checked: a short or failed transfer throws rather than timing
 * faster.
 */
import type { Sandbox } from '../src/sdk/index.ts';
import { timeMany } from './harness.ts';

/** What a transfer's answer is checked by. */
type Answer = Pick<Response, 'ok' | 'status' | 'arrayBuffer'>;

export interface FileRoute {
  upload(data: Buffer): Promise<Answer>;
  download(): Promise<Answer>;
}

/** The guest's own /files for `path` (its URL and access token), unencoded both ways. */
export function guestFilesRoute(guest: { url: string; accessToken: string }, path: string): FileRoute {
  const url = `${guest.url}/files?path=${encodeURIComponent(path)}`;
  const token = { 'x-access-token': guest.accessToken };
  return {
    upload: (body) => fetch(url, { method: 'POST', headers: { ...token, 'content-type': 'application/octet-stream' }, body }),
    download: () => fetch(url, { headers: { ...token, 'accept-encoding': 'identity' } }),
  };
}

/** The SDK's `files.write` and `files.read` of `path` (they throw on failure, so an answer is ok). */
export function sdkFilesRoute(files: Sandbox['files'], path: string): FileRoute {
  const answer = (bytes: Uint8Array): Answer => ({ ok: true, status: 200, arrayBuffer: async () => bytes.buffer as ArrayBuffer });
  return {
    upload: async (data) => { await files.write(path, data); return answer(new Uint8Array(0)); },
    download: async () => answer(await files.read(path, { format: 'bytes' })),
  };
}

/** `count` uploads of `data`, then `count` downloads of what they wrote, in milliseconds. */
export async function timeFileTransfers(count: number, data: Buffer, route: FileRoute): Promise<{ up: number[]; down: number[] }> {
  const up = await timeMany(count, async () => {
    const res = await route.upload(data);
    await res.arrayBuffer();
    if (!res.ok) throw new Error(`upload: HTTP ${res.status}`);
  });
  const down = await timeMany(count, async () => {
    const res = await route.download();
    const got = (await res.arrayBuffer()).byteLength;
    if (!res.ok || got !== data.length) throw new Error(`download: HTTP ${res.status}, ${got} of ${data.length} bytes`);
  });
  return { up, down };
}
