/**
 * Route tables, typed: each API declares its routes once (method, path, schemas), keyed by
 * operation id. The gateway validates with the schemas, the handler of each route receives the
 * inferred types of its own schemas (a missing or mistyped handler does not compile), the OpenAPI
 * document and the SDK's request bodies come from the same table.
 */
import type { z } from 'zod';

export type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface RouteDef {
  method: Method;
  /** `{name}` marks a path parameter. */
  path: string;
  body?: z.ZodType;
  /** A raw request body (file upload) instead of JSON. */
  rawBody?: boolean;
  query?: z.ZodObject;
  /** Success status. */
  status: number;
  /** Success body; `bytes` = application/octet-stream, undefined = no body. */
  response?: z.ZodType | 'bytes';
}

/** A route of a table, with its operation id (the table's key). */
export type Route<D extends RouteDef = RouteDef> = D & { id: string };

/** `/v1/sandboxes/{id}/files` → `{ id: string }`. */
export type PathParams<P extends string> = P extends `${string}{${infer Name}}${infer Rest}` ? { [K in Name]: string } & PathParams<Rest> : Record<never, string>;
/** What a handler receives as its JSON body (after defaults and transforms). */
export type BodyOf<D> = D extends { body: infer B extends z.ZodType } ? z.output<B> : undefined;
/** What a client sends as the JSON body (before defaults). */
export type BodyInput<D> = D extends { body: infer B extends z.ZodType } ? z.input<B> : never;
export type QueryOf<D> = D extends { query: infer Q extends z.ZodType } ? z.output<Q> : Record<string, never>;
/** What a client receives: the response schema's output. */
export type AnswerOf<D> = D extends { response: infer S extends z.ZodType } ? z.output<S> : undefined;
/** What a handler answers: the response schema's input (the wire form before transforms). */
export type ResponseOf<D> = D extends { response: infer S extends z.ZodType } ? z.input<S> : undefined;

/** Keeps each route's literal path and schema types; the key is the route's id. */
export function defineRoutes<const T extends Record<string, RouteDef>>(table: T): T {
  return table;
}

/** The table as a list in declaration order (match order), each route with its id. */
export function routeList<T extends Record<string, RouteDef>>(table: T): Route<T[keyof T]>[] {
  return Object.entries(table).map(([id, def]) => ({ ...(def as T[keyof T]), id }));
}

/** A route's path with its parameters filled in, each URL-encoded. */
export function fillPath<P extends string>(path: P, params: PathParams<P>): string {
  const values: Record<string, string> = params;
  return path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(values[name] ?? ''));
}

const repeatable = new WeakSet<z.ZodType>();

/** Declares a query field that takes repeated values (`?metadata=a&metadata=b`): its schema is an array. */
export function repeated<S extends z.ZodType>(schema: S): S {
  repeatable.add(schema);
  return schema;
}

export function isRepeated(schema: z.ZodType): boolean {
  return repeatable.has(schema);
}
