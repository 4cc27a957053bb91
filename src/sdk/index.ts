/**
 * agentbox SDK — the stable public API. Raw clients live behind `agentbox/internal`.
 *
 * @example
 *   import { Sandbox } from 'agentbox';
 *   const sbx = await Sandbox.create({ template: 'base' });
 */
export { Sandbox, type SandboxCreateOptions, type SandboxInfo, type SandboxListOptions } from './sandbox.ts';
export { Pools, type PoolInfo, type PoolSizing } from './pools.ts';
export { Volumes, type VolumeInfo } from './volumes.ts';
export { CommandHandle, type CommandResult, type RunOptions } from './commands.ts';
export type { EntryInfo, FilesystemEvent, WatchHandle } from './files.ts';
export type { UploadData } from './transfer.ts';
export type { PtyHandle, PtyOptions } from './pty.ts';
export type { ConnectionOptions } from './config.ts';
export type { EventsOptions, SandboxEvent } from './events.ts';
export {
  AgentboxSdkError, AuthenticationError, CommandExitError, ConflictError, InvalidArgumentError, NotFoundError,
  NotSupportedError, PermissionError, RateLimitError, SandboxEndedError, TimeoutError, UnavailableError,
} from './errors.ts';
