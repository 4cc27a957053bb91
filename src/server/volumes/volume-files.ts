/**
 * The files of one volume, for its content API (E2B's `/volumecontent/{id}/…`). The volume is
 * mounted on the host and sandboxes write to it, so a sandbox can plant a symlink or swap a
 * directory for one at any moment: every path is walked one component at a time from an open
 * directory (`/proc/self/fd/<dir fd>/<name>` with O_NOFOLLOW, the openat(2) idiom), `.` and `..`
 * are refused, and the last component is never followed. Whatever a sandbox does, a request
 * reaches only what lies inside the volume; a symlink is listed and removed, never opened.
 */
import { closeSync, constants as C, fchmodSync, fchownSync, fstatSync, lstatSync, mkdirSync, openSync, readdirSync, rmdirSync, unlinkSync, readlinkSync, type Stats } from 'node:fs';
import { createWriteStream } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import { AgentboxError, invalidArgument, notFound } from '../../api/errors.ts';
import { fileBytes } from '../../api/file-bytes.ts';

/** The owner of what the content API creates: the templates' `user`, like the volume's root (engine/volumes/disks.ts). */
const DEFAULT_OWNER = 1000;

export type VolumeEntryType = 'file' | 'directory' | 'symlink' | 'unknown';

export interface VolumeEntry {
  name: string;
  /** Path inside the volume, from its root `/`. */
  path: string;
  type: VolumeEntryType;
  size: number;
  /** Permission bits. */
  mode: number;
  uid: number;
  gid: number;
  atime: string;
  mtime: string;
  ctime: string;
  /** A symlink's target, as stored (never resolved). */
  target?: string;
}

export interface Ownership { uid?: number; gid?: number; mode?: number }

const at = (dirFd: number, name: string) => `/proc/self/fd/${dirFd}/${name}`;

/** `a/b`, `/a/b/`: the components; `.` and `..` are refused. */
export function pathParts(path: string): string[] {
  if (path.includes('\0')) throw invalidArgument('path must not contain NUL');
  const parts = path.split('/').filter((p) => p !== '');
  if (parts.some((p) => p === '.' || p === '..')) throw invalidArgument(`path '${path}' must not contain '.' or '..' components`);
  return parts;
}

const display = (parts: string[]) => `/${parts.join('/')}`;

function typeOf(s: Stats): VolumeEntryType {
  if (s.isFile()) return 'file';
  if (s.isDirectory()) return 'directory';
  if (s.isSymbolicLink()) return 'symlink';
  return 'unknown';
}

function fsError(err: unknown, path: string): AgentboxError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return notFound('path', path);
  if (code === 'ENOTDIR' || code === 'ELOOP') return invalidArgument(`'${path}' is not a directory or is a symlink; the content API does not follow symlinks`);
  if (code === 'EISDIR') return invalidArgument(`'${path}' is a directory`);
  if (code === 'EEXIST') return new AgentboxError('already_exists', `'${path}' already exists`);
  if (code === 'ENOTEMPTY') return new AgentboxError('conflict', `'${path}' is not empty`);
  if (code === 'ENOSPC' || code === 'EDQUOT') return new AgentboxError('resource_exhausted', `the volume is full: '${path}' could not be written`);
  return new AgentboxError('internal', `${path}: ${(err as Error).message}`);
}

export class VolumeFiles {
  constructor(private readonly root: string) {}

  /** Opens the directory at `parts` without following any symlink; with `create`, missing ones are made. */
  private openDir(parts: string[], create?: Ownership): number {
    let fd = openSync(this.root, C.O_RDONLY | C.O_DIRECTORY);
    for (let i = 0; i < parts.length; i++) {
      const name = parts[i]!;
      try {
        if (create) {
          try {
            mkdirSync(at(fd, name), { mode: 0o755 });
            const made = openSync(at(fd, name), C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
            fchownSync(made, create.uid ?? DEFAULT_OWNER, create.gid ?? DEFAULT_OWNER);
            closeSync(made);
          } catch (err) {
            if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
          }
        }
        const next = openSync(at(fd, name), C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
        closeSync(fd);
        fd = next;
      } catch (err) {
        closeSync(fd);
        throw fsError(err, display(parts.slice(0, i + 1)));
      }
    }
    return fd;
  }

  /** Runs `fn` with the open parent directory of `path` and the last component's name. */
  private inParent<T>(path: string, fn: (dirFd: number, name: string, parts: string[]) => T, create?: Ownership): T {
    const parts = pathParts(path);
    if (parts.length === 0) throw invalidArgument('the volume root cannot be the target of this operation');
    const dirFd = this.openDir(parts.slice(0, -1), create);
    try {
      return fn(dirFd, parts.at(-1)!, parts);
    } catch (err) {
      throw err instanceof AgentboxError ? err : fsError(err, display(parts));
    } finally {
      closeSync(dirFd);
    }
  }

  private entry(dirFd: number, name: string, parts: string[]): VolumeEntry {
    const s = lstatSync(at(dirFd, name));
    const e: VolumeEntry = {
      name, path: display(parts), type: typeOf(s), size: s.size, mode: s.mode & 0o7777, uid: s.uid, gid: s.gid,
      atime: s.atime.toISOString(), mtime: s.mtime.toISOString(), ctime: s.ctime.toISOString(),
    };
    if (s.isSymbolicLink()) e.target = readlinkSync(at(dirFd, name));
    return e;
  }

  private rootEntry(): VolumeEntry {
    const s = lstatSync(this.root);
    return {
      name: '', path: '/', type: 'directory', size: s.size, mode: s.mode & 0o7777, uid: s.uid, gid: s.gid,
      atime: s.atime.toISOString(), mtime: s.mtime.toISOString(), ctime: s.ctime.toISOString(),
    };
  }

  stat(path: string): VolumeEntry {
    if (pathParts(path).length === 0) return this.rootEntry();
    return this.inParent(path, (fd, name, parts) => this.entry(fd, name, parts));
  }

  /** The entries under a directory, `depth` levels deep (1: its children); symlinks are listed, not entered. */
  list(path: string, depth = 1): VolumeEntry[] {
    const parts = pathParts(path);
    const out: VolumeEntry[] = [];
    const walk = (fd: number, prefix: string[], level: number) => {
      for (const name of readdirSync(`/proc/self/fd/${fd}`).sort()) {
        const e = this.entry(fd, name, [...prefix, name]);
        out.push(e);
        if (e.type !== 'directory' || level >= depth) continue;
        let child: number;
        try {
          child = openSync(at(fd, name), C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
        } catch {
          continue; // replaced by something else meanwhile
        }
        try {
          walk(child, [...prefix, name], level + 1);
        } finally {
          closeSync(child);
        }
      }
    };
    const fd = this.openDir(parts);
    try {
      walk(fd, parts, 1);
    } catch (err) {
      throw err instanceof AgentboxError ? err : fsError(err, display(parts));
    } finally {
      closeSync(fd);
    }
    return out;
  }

  /** Makes a directory; with `parents`, missing parents too (and an existing one is fine). */
  mkdir(path: string, own: Ownership, parents: boolean): VolumeEntry {
    return this.inParent(path, (fd, name, parts) => {
      try {
        mkdirSync(at(fd, name), { mode: own.mode ?? 0o755 });
      } catch (err) {
        if (!(parents && (err as NodeJS.ErrnoException).code === 'EEXIST')) throw err;
      }
      this.setOwnership(fd, name, own, C.O_DIRECTORY);
      return this.entry(fd, name, parts);
    }, parents ? { uid: own.uid, gid: own.gid } : undefined);
  }

  /** Writes a file from `body` (created, or truncated and rewritten); missing parent directories are made. */
  async write(path: string, body: Readable, own: Ownership): Promise<VolumeEntry> {
    const parts = pathParts(path);
    if (parts.length === 0) throw invalidArgument('the volume root is a directory');
    const dirFd = this.openDir(parts.slice(0, -1), { uid: own.uid, gid: own.gid });
    const name = parts.at(-1)!;
    try {
      let fd: number;
      try {
        fd = openSync(at(dirFd, name), C.O_WRONLY | C.O_CREAT | C.O_TRUNC | C.O_NOFOLLOW, own.mode ?? 0o644);
      } catch (err) {
        throw fsError(err, display(parts));
      }
      try {
        fchownSync(fd, own.uid ?? DEFAULT_OWNER, own.gid ?? DEFAULT_OWNER);
        if (own.mode !== undefined) fchmodSync(fd, own.mode);
      } catch (err) {
        closeSync(fd);
        throw fsError(err, display(parts));
      }
      await pipeline(body, createWriteStream('', { fd })).catch((err: unknown) => { throw fsError(err, display(parts)); });
      return this.entry(dirFd, name, parts);
    } finally {
      closeSync(dirFd);
    }
  }

  /** A regular file's content as a stream (the fd is opened now, so a later swap changes nothing). */
  read(path: string): { size: number; stream: Readable } {
    return this.inParent(path, (dirFd, name) => {
      const fd = openSync(at(dirFd, name), C.O_RDONLY | C.O_NOFOLLOW);
      const s = fstatSync(fd);
      if (!s.isFile()) {
        closeSync(fd);
        throw invalidArgument(`'${path}' is not a regular file`);
      }
      return { size: s.size, stream: fileBytes({ fd }, s.size) };
    });
  }

  /** Changes owner and mode of an entry (not through a symlink). */
  setMetadata(path: string, own: Ownership): VolumeEntry {
    if (pathParts(path).length === 0) throw invalidArgument('the volume root keeps its owner and mode');
    return this.inParent(path, (fd, name, parts) => {
      this.setOwnership(fd, name, own, 0, true);
      return this.entry(fd, name, parts);
    });
  }

  private setOwnership(dirFd: number, name: string, own: Ownership, flags: number, onlyGiven = false): void {
    if (onlyGiven && own.uid === undefined && own.gid === undefined && own.mode === undefined) return;
    const fd = openSync(at(dirFd, name), C.O_RDONLY | C.O_NOFOLLOW | flags);
    try {
      if (!onlyGiven || own.uid !== undefined || own.gid !== undefined) {
        const s = fstatSync(fd);
        fchownSync(fd, own.uid ?? (onlyGiven ? s.uid : DEFAULT_OWNER), own.gid ?? (onlyGiven ? s.gid : DEFAULT_OWNER));
      }
      if (own.mode !== undefined) fchmodSync(fd, own.mode);
    } finally {
      closeSync(fd);
    }
  }

  /** Removes a file, symlink or directory tree (never following a symlink inside it). */
  remove(path: string): void {
    this.inParent(path, (fd, name) => removeAt(fd, name));
  }
}

function removeAt(dirFd: number, name: string): void {
  if (!lstatSync(at(dirFd, name)).isDirectory()) {
    unlinkSync(at(dirFd, name));
    return;
  }
  const child = openSync(at(dirFd, name), C.O_RDONLY | C.O_DIRECTORY | C.O_NOFOLLOW);
  try {
    for (const entry of readdirSync(`/proc/self/fd/${child}`)) removeAt(child, entry);
  } finally {
    closeSync(child);
  }
  rmdirSync(at(dirFd, name));
}
