/**
 * E2B's Volumes API as the SDKs use it (npm `e2b` ≥2.50 `Volume`, PyPI `e2b` `Volume`): the
 * control routes `/volumes` (API key) and the content routes `/volumecontent/{volumeID}/…`
 * (the volume's token as `Authorization: Bearer`), which the SDKs send to `E2B_VOLUME_API_URL`,
 * else `https://api.<E2B_DOMAIN>`. Field names are E2B's.
 */
import { z } from 'zod';

/** E2B's rule for a volume name (the same as the native API's VolumeName). */
export const NewVolume = z.looseObject({
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,63}$/, 'Invalid volume name'),
});

/** E2B's volume ids are UUIDs; anything else is "Invalid volume ID" (400). */
export const VOLUME_ID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const uint = z.string().regex(/^\d{1,10}$/, 'must be a non-negative integer').transform(Number).optional();
const flag = z.enum(['true', 'false', 'True', 'False']).transform((v) => v.toLowerCase() === 'true').optional();

/** `?path=` of every content route, with the options some of them take. */
export const ContentQuery = z.object({
  path: z.string().max(4096).default('/'),
  depth: z.string().regex(/^\d{1,3}$/, 'depth must be an integer').transform(Number).optional(),
  uid: uint,
  gid: uint,
  mode: uint,
  force: flag,
});
export type ContentQuery = z.infer<typeof ContentQuery>;

export const MetadataPatch = z.looseObject({
  uid: z.number().int().min(0).nullish(),
  gid: z.number().int().min(0).nullish(),
  mode: z.number().int().min(0).max(0o7777).nullish(),
});

/** The content routes: `/volumecontent/{volumeID}/{dir|path|file}`. */
export const CONTENT_PATH_RE = /^\/volumecontent\/([^/]+)\/(dir|path|file)$/;
/** The control routes: `/volumes` and `/volumes/{volumeID}`. */
export const VOLUMES_PATH_RE = /^\/volumes(?:\/([^/]+))?$/;
