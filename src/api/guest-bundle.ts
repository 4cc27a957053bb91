/**
 * The layout of the guest bundle that the host builds (src/envd/bundle.ts) and the guest runs
 * (src/guest/code-cache.ts): file names, how guest-code.js is wrapped, and the variable that has
 * the build write the code cache. Both sides read it from here, so neither reaches into the other.
 */

export const GUEST_ENTRY = 'guest.cjs';
export const GUEST_CODE = 'guest-code.js';
export const GUEST_CODE_CACHE = 'guest-code.cache';
/** Set by the bundle build: start the guest, write guest-code.cache once it has started, exit. */
export const WRITE_CODE_CACHE_ENV = 'AGENTBOX_GUEST_WRITE_CODE_CACHE';

/**
 * guest-code.js evaluates to this function (esbuild's CommonJS output between a banner and a
 * footer): `module.exports.started` settles when the guest has started; `importMetaUrl` stands in
 * for main.ts's import.meta.url.
 */
export type GuestCode = (require: NodeJS.Require, module: { exports: { started?: Promise<void> } }, importMetaUrl: string) => void;

export const GUEST_CODE_BANNER = '(function (require, module, __agentboxImportMetaUrl) {';
export const GUEST_CODE_FOOTER = '})';
export const GUEST_CODE_IMPORT_META_URL = '__agentboxImportMetaUrl';

/**
 * The npm package with the xattr addon the guest loads (src/guest/filesystem/metadata.ts) and
 * the bundle carries in its node_modules: @napi-rs/xattr's prebuilt build for this machine. The
 * glibc (`-gnu`) one, since the guest runs on the bundle's copy of the host's glibc.
 */
export const XATTR_ADDON_PACKAGE = `@napi-rs/xattr-${process.platform}-${process.arch}-gnu`;
