/**
 * The envd protocol level this guest truly implements (shared/reference/e2b.md §3.8): octet-stream
 * uploads (0.5.7) and everything below. Not 0.6.2+: file metadata in xattrs (X-Metadata-*) is not
 * implemented, so the SDKs must not be told it is.
 */
export const ENVD_VERSION = '0.5.7';
