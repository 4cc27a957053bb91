/**
 * Builds the OpenAPI 3.1 document of the native API from the route table and its zod schemas
 * (zod v4's JSON Schema output, which is the 2020-12 dialect OpenAPI 3.1 uses).
 */
import { z } from 'zod';
import { ErrorBody } from './native.ts';
import type { RouteSpec } from './native-routes.ts';

type Json = Record<string, unknown>;

export function buildOpenApi(routes: RouteSpec[], info: { title: string; version: string }): Json {
  const registry = z.registry<{ id: string }>();
  const refOf = (schema: z.ZodType): Json => {
    const id = (schema.meta() as { id?: string } | undefined)?.id;
    if (!id) return strip(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json);
    if (!registry.has(schema)) registry.add(schema, { id });
    return { $ref: `#/components/schemas/${id}` };
  };
  const errorRef = refOf(ErrorBody);
  const paths: Record<string, Json> = {};
  for (const r of routes) {
    const params: Json[] = [...r.path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    if (r.query) {
      const shape = r.query.shape as Record<string, z.ZodType>;
      for (const [name, schema] of Object.entries(shape)) {
        params.push({ name, in: 'query', required: !schema.safeParse(undefined).success, schema: strip(z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as Json) });
      }
    }
    const okContent: Json = {};
    if (r.response === 'bytes') okContent['application/octet-stream'] = { schema: { type: 'string', format: 'binary' } };
    else if (r.response) okContent['application/json'] = { schema: refOf(r.response) };
    if (r.ndjson) okContent['application/x-ndjson'] = { schema: refOf(r.ndjson) };
    const op: Json = {
      operationId: r.id,
      summary: r.summary + (r.admin ? ' (admin key only)' : ''),
      parameters: params,
      responses: {
        [String(r.status)]: Object.keys(okContent).length ? { description: 'OK', content: okContent } : { description: 'OK' },
        default: { description: 'Error', content: { 'application/json': { schema: errorRef } } },
      },
    };
    if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: refOf(r.body) } } };
    if (r.rawBody) op.requestBody = { required: true, content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } };
    const openApiPath = r.path;
    paths[openApiPath] = { ...(paths[openApiPath] ?? {}), [r.method.toLowerCase()]: op };
  }
  paths['/v1/sandboxes/{id}/ports/{port}/{path}'] = portProxyPath(errorRef);
  const components = z.toJSONSchema(registry, { io: 'input', unrepresentable: 'any', uri: (id) => `#/components/schemas/${id}` }) as { schemas: Record<string, Json> };
  // Schemas with an id that are only reached through another schema land in `__shared.$defs`;
  // hoist them next to the others so every reference is a plain component reference.
  const { __shared, ...named } = components.schemas;
  const hoisted = { ...named, ...((__shared?.$defs ?? {}) as Record<string, Json>) };
  const schemas = JSON.parse(JSON.stringify(hoisted).replaceAll('#/components/schemas/__shared#/$defs/', '#/components/schemas/')) as Record<string, Json>;
  for (const id of Object.keys(schemas)) schemas[id] = strip(schemas[id]!);
  return {
    openapi: '3.1.0',
    info,
    security: [{ bearer: [] }],
    paths,
    components: { schemas, securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
  };
}

/**
 * The port proxy is not a route of the table (it forwards any method, any body, and WebSocket
 * upgrades), so it is described here by hand, once for every method.
 */
function portProxyPath(errorRef: Json): Json {
  const op = (method: string): Json => ({
    operationId: `portProxy${method[0]!.toUpperCase()}${method.slice(1)}`,
    summary: 'Forward a request (or a WebSocket upgrade) to a port inside the sandbox; also served as `<port>-<id>.<domain>`. A paused sandbox created with autoResume is resumed first.',
    parameters: [
      { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
      { name: 'port', in: 'path', required: true, schema: { type: 'integer', minimum: 1, maximum: 65535 } },
      { name: 'path', in: 'path', required: true, description: 'the rest of the path, passed through', schema: { type: 'string' } },
    ],
    responses: {
      default: { description: "The sandbox's answer, or an agentbox error", content: { 'application/json': { schema: errorRef } } },
    },
  });
  return Object.fromEntries(['get', 'put', 'post', 'delete', 'patch', 'head', 'options'].map((m) => [m, op(m)]));
}

/** Drops the per-schema `$schema`/`$id` keys that do not belong inside an OpenAPI document. */
function strip(schema: Json): Json {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
}
