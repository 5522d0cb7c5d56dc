import Ajv, { type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

type Schema = Record<string, unknown>;

/**
 * The spec's schemas as strict JSON Schema: every object schema that lists its properties allows no other, and
 * `nullable` admits null.
 */
function closed(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(closed);
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Schema = {};
  for (const [k, v] of Object.entries(schema)) out[k] = closed(v);
  if ('properties' in out && !('additionalProperties' in out)) out.additionalProperties = false;
  // OpenAPI 3.0's nullable, as JSON Schema says it (for enums and $refs too, which Ajv's own nullable misses).
  if (out.nullable === true) {
    delete out.nullable;
    return { anyOf: [{ type: 'null' }, out] };
  }
  return out;
}

/**
 * Checks API answers against docs/openapi.json, the reference users read: an answer's body must validate against
 * the schema its route and status declare, with no property the schema does not list (a view that leaks an internal
 * field fails).
 */
export class OpenApiConformance {
  private readonly doc: {
    paths: Record<
      string,
      Record<string, { responses?: Record<string, { content?: Record<string, { schema: Schema }> }> }>
    >;
  };
  private readonly ajv: Ajv;
  private readonly compiled = new Map<string, ValidateFunction>();

  constructor(path = join(__dirname, '../../docs/openapi.json')) {
    const doc = JSON.parse(readFileSync(path, 'utf8')) as { paths: never; components: { schemas: Schema } };
    this.doc = doc;
    this.ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.ajv);
    this.ajv.addSchema({ components: { schemas: closed(doc.components.schemas) } }, 'openapi');
  }

  /** The JSON schema the spec declares for a route's answer (`/v1/x/:id` style), or null when it declares no body. */
  schemaOf(method: string, route: string, status: number): Schema | null {
    const operation = this.operation(method, route);
    if (!operation) throw new Error(`docs/openapi.json has no ${method} ${route}`);
    return operation.responses?.[String(status)]?.content?.['application/json']?.schema ?? null;
  }

  /** Whether the spec documents the route at all (the Swagger UI's own page, /docs, it does not). */
  documents(method: string, route: string): boolean {
    return this.operation(method, route) !== undefined;
  }

  private operation(method: string, route: string) {
    return this.doc.paths[route.replace(/:([a-zA-Z]+)/g, '{$1}')]?.[method.toLowerCase()];
  }

  /** What is wrong with `body` as the answer of `method route` with `status`: none when it conforms. */
  errors(method: string, route: string, status: number, body: unknown): string[] {
    const schema = this.schemaOf(method, route, status);
    if (!schema) return [`${method} ${route} ${status}: docs/openapi.json declares no JSON body`];
    const key = JSON.stringify(schema);
    let validate = this.compiled.get(key);
    if (!validate) {
      const rewritten = JSON.parse(key.replaceAll('"#/components/', '"openapi#/components/')) as Schema;
      validate = this.ajv.compile(closed(rewritten) as Schema);
      this.compiled.set(key, validate);
    }
    if (validate(body)) return [];
    return (validate.errors ?? []).map((e) =>
      e.keyword === 'additionalProperties'
        ? `${e.instancePath || '/'}: ${String((e.params as { additionalProperty: string }).additionalProperty)} is not in the schema`
        : `${e.instancePath || '/'}: ${e.message ?? e.keyword}`,
    );
  }
}
