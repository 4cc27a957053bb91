/**
 * Request bodies of execd (upstream `specs/execd-api.yaml`), checked with zod/mini like the
 * guest config: the full zod build would triple the guest bundle (src/guest/config.ts).
 */
import * as z from 'zod/mini';

const envs = z.optional(z.record(z.string(), z.string()));
const id = z.int().check(z.minimum(0));

export const RunCommandSchema = z.object({
  command: z.string().check(z.minLength(1)),
  cwd: z.optional(z.string()),
  background: z.optional(z.boolean()),
  /** Milliseconds; the process group is killed when it passes. */
  timeout: z.optional(z.int().check(z.minimum(1))),
  uid: z.optional(id),
  gid: z.optional(id),
  envs,
});

export const CreateSessionSchema = z.object({ cwd: z.optional(z.string()) });

export const CreatePtySchema = z.object({ cwd: z.optional(z.string()), command: z.optional(z.string()) });

export const RunInSessionSchema = z.object({
  command: z.string().check(z.minLength(1)),
  cwd: z.optional(z.string()),
  timeout: z.optional(z.int().check(z.minimum(1))),
});

/** mode is octal digits written as a decimal number (755), as upstream. */
export const PermissionSchema = z.object({
  mode: z.optional(z.int().check(z.minimum(0), z.maximum(7777))),
  owner: z.optional(z.string()),
  group: z.optional(z.string()),
});
export const PermissionsByPathSchema = z.record(z.string().check(z.minLength(1)), PermissionSchema);

export const MovesSchema = z.array(z.object({ src: z.string().check(z.minLength(1)), dest: z.string().check(z.minLength(1)) }));

export const ReplacementsSchema = z.record(
  z.string().check(z.minLength(1)),
  z.object({ old: z.string().check(z.minLength(1)), new: z.string() }),
);

export const UploadMetadataSchema = z.object({
  path: z.string().check(z.minLength(1)),
  owner: z.optional(z.string()),
  group: z.optional(z.string()),
  mode: z.optional(z.int().check(z.minimum(0), z.maximum(7777))),
});

export const CreateContextSchema = z.object({
  language: z.string().check(z.minLength(1)),
  cwd: z.optional(z.string()),
});

export const RunCodeSchema = z.object({
  context: z.optional(z.object({ id: z.optional(z.string()), language: z.optional(z.string()) })),
  code: z.string(),
});
