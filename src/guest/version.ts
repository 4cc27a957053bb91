/**
 * The envd protocol level this guest truly implements (E2B's published spec, github.com/e2b-dev/E2B `spec/`): octet-stream
 * uploads (0.5.7) and everything below. Not 0.6.2+: file metadata in xattrs (X-Metadata-*) is not
 * implemented, so the SDKs must not be told it is.
 */
export const ENVD_VERSION = '0.5.7';
