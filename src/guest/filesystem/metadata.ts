/**
 * User metadata on files (envd 0.6.2): `X-Metadata-<key>: <value>` headers on POST /files are
 * kept as the file's `user.e2b.<key>` extended attributes and returned in every EntryInfo. The
 * rules are E2B's envd's (github.com/e2b-dev/infra, packages/shared/pkg/filesystem, xattr code):
 * keys lowercased, printable US-ASCII keys and values, a name of at most 255 bytes with the
 * prefix, 4 KiB for all of a file's metadata, and a write that replaces the whole set. A file
 * system without user xattrs (/proc, some mounts) keeps the file and drops its metadata, as
 * envd does; gVisor's gofer root and its tmpfs both have them (test/e2b/envd-parity.test.ts).
 *
 * Node has no xattr calls: @napi-rs/xattr's prebuilt addon makes them (XATTR_ADDON_PACKAGE). Its
 * calls do not follow a final symlink (lgetxattr and friends): callers pass the resolved path.
 */
import type { IncomingHttpHeaders } from 'node:http';
import { createRequire } from 'node:module';
import { AgentboxError } from '../../api/errors.ts';
import { XATTR_ADDON_PACKAGE } from '../../api/guest-bundle.ts';
import { fsError } from '../errors.ts';

export type Metadata = Record<string, string>;

export const METADATA_HEADER_PREFIX = 'x-metadata-';
export const METADATA_XATTR_PREFIX = 'user.e2b.';
/** Linux caps an xattr name at 255 bytes, the prefix included. */
export const MAX_METADATA_KEY_BYTES = 255 - METADATA_XATTR_PREFIX.length;
/** All of one file's metadata (names with the prefix, plus values): ext4 keeps a file's xattrs in one 4 KiB block. */
export const MAX_METADATA_TOTAL_BYTES = 4096;

interface XattrAddon {
  listAttributesSync(path: string): string[];
  getAttributeSync(path: string, name: string): Buffer | null;
  setAttributeSync(path: string, name: string, value: string): void;
  removeAttributeSync(path: string, name: string): void;
}

let addon: XattrAddon | undefined;
function xattrs(): XattrAddon {
  // createRequire, not import: the guest bundle resolves the addon from its own node_modules.
  addon ??= createRequire(import.meta.url)(XATTR_ADDON_PACKAGE) as XattrAddon;
  return addon;
}

const ERRNO_NAME: Record<number, string> = { 1: 'EPERM', 2: 'ENOENT', 13: 'EACCES', 28: 'ENOSPC', 30: 'EROFS', 61: 'ENODATA', 95: 'EOPNOTSUPP', 122: 'EDQUOT' };

/** The addon reports an OS error only in its message, "… (os error <errno>)": its errno's name. */
function errnoName(err: unknown): string | undefined {
  const m = /\(os error (\d+)\)/.exec((err as Error | undefined)?.message ?? '');
  return m ? ERRNO_NAME[Number(m[1])] : undefined;
}

const unsupported = (err: unknown) => errnoName(err) === 'EOPNOTSUPP';

/** The metadata in a request's headers: keys lowercased, the first value of a repeated header. */
export function metadataFromHeaders(headers: Record<string, string[] | undefined> | IncomingHttpHeaders): Metadata {
  const out: Metadata = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!lower.startsWith(METADATA_HEADER_PREFIX) || value === undefined) continue;
    const key = lower.slice(METADATA_HEADER_PREFIX.length);
    if (key) out[key] = Array.isArray(value) ? value[0] ?? '' : value;
  }
  return out;
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** invalid_argument (400 on POST /files) naming the first rule `md` breaks. */
export function validateMetadata(md: Metadata): void {
  let total = 0;
  for (const [key, value] of Object.entries(md)) {
    if (!key) throw new AgentboxError('invalid_argument', 'metadata key must not be empty');
    if (key.length > MAX_METADATA_KEY_BYTES) throw new AgentboxError('invalid_argument', `metadata key '${key.slice(0, 32)}…' is longer than ${MAX_METADATA_KEY_BYTES} bytes`);
    if (!PRINTABLE_ASCII.test(key)) throw new AgentboxError('invalid_argument', `metadata key ${JSON.stringify(key)} must be printable US-ASCII`);
    if (!PRINTABLE_ASCII.test(value)) throw new AgentboxError('invalid_argument', `metadata value for key '${key}' must be printable US-ASCII`);
    total += METADATA_XATTR_PREFIX.length + key.length + value.length;
  }
  if (total > MAX_METADATA_TOTAL_BYTES) throw new AgentboxError('invalid_argument', `metadata is ${total} bytes, more than ${MAX_METADATA_TOTAL_BYTES}`);
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The metadata of the file at `path` (not following a final symlink); undefined when it has none
 * or its file system keeps no xattrs. A value set inside the sandbox that is not UTF-8 is left
 * out: EntryInfo's map holds strings.
 */
export function readMetadata(path: string): Metadata | undefined {
  let names: string[];
  try { names = xattrs().listAttributesSync(path); } catch { return undefined; /* unsupported, or raced away */ }
  let out: Metadata | undefined;
  for (const name of names) {
    if (!name.startsWith(METADATA_XATTR_PREFIX)) continue;
    let value: string;
    try {
      const raw = xattrs().getAttributeSync(path, name);
      if (raw === null) continue;
      value = utf8.decode(raw);
    } catch {
      continue; // removed meanwhile, or not UTF-8
    }
    (out ??= {})[name.slice(METADATA_XATTR_PREFIX.length)] = value;
  }
  return out;
}

/**
 * Replaces the metadata of the file at `path` with `md`: keys it lacks are removed, since an
 * overwrite keeps the old file's xattrs. A file system without xattrs is no error (nothing is
 * kept, so nothing is reported back); a full one is resource_exhausted.
 */
export function writeMetadata(path: string, md: Metadata): void {
  validateMetadata(md);
  try {
    let existing: string[];
    try { existing = xattrs().listAttributesSync(path); } catch (err) {
      if (unsupported(err)) return;
      throw err;
    }
    for (const name of existing) {
      if (name.startsWith(METADATA_XATTR_PREFIX) && !Object.hasOwn(md, name.slice(METADATA_XATTR_PREFIX.length))) xattrs().removeAttributeSync(path, name);
    }
    for (const [key, value] of Object.entries(md)) xattrs().setAttributeSync(path, METADATA_XATTR_PREFIX + key, value);
  } catch (err) {
    if (unsupported(err)) return;
    // With Node's fs error shape, so fsError maps it like any other.
    throw fsError(Object.assign(err as Error, { code: errnoName(err) }), path);
  }
}
