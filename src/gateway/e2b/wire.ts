/**
 * Request bodies of the E2B control API (E2B's published spec, github.com/e2b-dev/E2B `spec/`) as zod schemas. Objects
 * are loose: SDKs send fields agentbox does not act on (`secure`, `mcp`, `iam`, `volumeMounts`),
 * and refusing them would break unchanged clients.
 */
import { z } from 'zod';
import { EnvMap, MAX_TIMEOUT_SECONDS, MetadataMap } from '../../api/native.ts';

/** Seconds; E2B answers 400 for ≤0 and above the team maximum (here agentbox's 24 h ceiling). */
export const TimeoutSeconds = z.number().int()
  .refine((n) => n > 0, { message: 'Timeout must be greater than 0' })
  .refine((n) => n <= MAX_TIMEOUT_SECONDS, { message: `Timeout cannot be greater than ${MAX_TIMEOUT_SECONDS / 3600} hours` });

/** One CIDR, address or domain name; the same bounds as the native API's egress lists. */
const EgressEntry = z.string().min(1).max(253);

export const NetworkConfig = z.looseObject({
  allowOut: z.array(EgressEntry).max(256).nullish(),
  denyOut: z.array(EgressEntry).max(256).nullish(),
  allowPublicTraffic: z.boolean().nullish(),
});
export type NetworkConfig = z.infer<typeof NetworkConfig>;

export const NewSandbox = z.looseObject({
  templateID: z.string().min(1),
  timeout: TimeoutSeconds.optional(),
  autoPause: z.boolean().optional(),
  autoPauseMemory: z.boolean().nullish(),
  autoResume: z.looseObject({ enabled: z.boolean() }).nullish(),
  allow_internet_access: z.boolean().nullish(),
  network: NetworkConfig.nullish(),
  // The native API's bounds, so neither façade lets a tenant bloat the state database.
  metadata: MetadataMap.nullish(),
  envVars: EnvMap.nullish(),
});
export type NewSandbox = z.infer<typeof NewSandbox>;

/** v1 connect requires `timeout`; v2 makes the whole body optional (default 300 s). */
export const ConnectBody = z.looseObject({ timeout: TimeoutSeconds.optional(), memory: z.boolean().optional() });
export const ResumeBody = z.looseObject({ timeout: TimeoutSeconds.optional(), autoPause: z.boolean().optional() });
export const TimeoutBody = z.looseObject({ timeout: TimeoutSeconds });
export const PauseBody = z.looseObject({ memory: z.boolean().optional() });
export const ForkBody = z.looseObject({ timeout: TimeoutSeconds.optional(), count: z.number().int().min(1).max(100).default(1) });
export const RefreshBody = z.looseObject({ duration: z.number().int().min(0).max(3600).optional() });
export const SnapshotBody = z.looseObject({ name: z.string().min(1).max(128).regex(/^[^\s]+$/, 'a snapshot name has no spaces').nullish() });
