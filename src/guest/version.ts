/**
 * The envd protocol level this guest truly implements (E2B's envd, github.com/e2b-dev/infra
 * `packages/envd`, and the SDKs' version gates): octet-stream uploads (0.5.7), file metadata as
 * `user.e2b.*` xattrs from `X-Metadata-*` headers (0.6.2, filesystem/metadata.ts), entry info in
 * watch events, streaming and polling (0.6.3, filesystem/watch-events.ts), and refusing network
 * mounts unless `allowNetworkMounts` (0.6.4). No SDK (npm e2b 2.51, PyPI e2b) gates anything on a
 * later version, so none is claimed.
 */
export const ENVD_VERSION = '0.6.4';
