/** Small filesystem helpers the engine needs for crash safety. */
import { randomBytes } from 'node:crypto';
import { chmod, mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/**
 * Writes a file so that a crash leaves either the old or the new content, never a torn one:
 * write a temporary file, fsync it, rename over the target, fsync the directory.
 */
export async function writeFileAtomic(path: string, data: string | Buffer): Promise<void> {
  const tmp = join(dirname(path), `.${randomBytes(6).toString('hex')}.tmp`);
  try {
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(data);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, path);
    const dir = await open(dirname(path), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } finally {
    await rm(tmp, { force: true });
  }
}

/**
 * A directory only its owner (root) may enter: created 0700, and an existing one narrowed to 0700
 * (homes made by older versions were 0755).
 */
export async function ensurePrivateDir(path: string): Promise<void> {
  await mkdir(path, { recursive: true, mode: 0o700 });
  await chmod(path, 0o700);
}

export const exists = (path: string) => stat(path).then(() => true, () => false);

/**
 * Copies a directory tree keeping owners, modes, xattrs, hard links and whiteout devices
 * (an overlay upper dir has them all); reflinks where the filesystem can.
 */
export async function copyTree(src: string, dst: string): Promise<void> {
  const { runCommand } = await import('./command.ts');
  await runCommand('cp', ['-a', '--reflink=auto', src, dst]);
}
