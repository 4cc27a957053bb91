/**
 * The side door (`agentbox/internal`): raw clients and wire types that may change between
 * releases. The CLI and tests use them; applications should prefer `agentbox`.
 */
export { ApiClient, type RequestOptions } from './api-client.ts';
export { EnvdClient } from './envd.ts';
export { agentboxHome, DEFAULT_URL, resolveConnection, type ResolvedConnection } from './config.ts';
export { errorFromBody } from './errors.ts';
export type * from '../api/native.ts';
