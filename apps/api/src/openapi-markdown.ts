import type { OpenAPIObject } from '@nestjs/swagger';

type Schema = {
  $ref?: string;
  type?: string;
  format?: string;
  enum?: unknown[];
  items?: Schema;
  properties?: Record<string, Schema>;
  required?: string[];
  nullable?: boolean;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  pattern?: string;
  description?: string;
  example?: unknown;
  default?: unknown;
  allOf?: Schema[];
};

type Content = Record<string, { schema?: Schema }>;

/** The parts of an OpenAPI operation the reference shows. */
interface Operation {
  tags?: string[];
  summary?: string;
  /** Longer than the summary: what a route that is not plain JSON speaks (the console's WebSocket). */
  description?: string;
  parameters?: Array<{ name: string; in: string; required?: boolean; schema?: Schema }>;
  requestBody?: { content?: Content };
  responses: Record<string, { description?: string; content?: Content }>;
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

const refName = (ref: string) => ref.split('/').at(-1) ?? ref;
const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function typeOf(schema: Schema): string {
  if (schema.$ref) return `[${refName(schema.$ref)}](#${refName(schema.$ref).toLowerCase()})`;
  if (schema.allOf?.[0]) return typeOf(schema.allOf[0]);
  if (schema.type === 'array' && schema.items) return `${typeOf(schema.items)}[]`;
  const base = schema.format ? `${schema.type ?? 'object'} (${schema.format})` : (schema.type ?? 'object');
  return schema.nullable ? `${base} \\| null` : base;
}

function rulesOf(schema: Schema): string {
  const rules: string[] = [];
  if (schema.enum) rules.push(`one of ${schema.enum.map((e) => `\`${String(e)}\``).join(', ')}`);
  if (schema.minimum !== undefined) rules.push(`≥ ${schema.minimum}`);
  if (schema.maximum !== undefined) rules.push(`≤ ${schema.maximum}`);
  if (schema.minLength !== undefined) rules.push(`length ≥ ${schema.minLength}`);
  if (schema.maxLength !== undefined) rules.push(`length ≤ ${schema.maxLength}`);
  if (schema.pattern) rules.push(`matches \`${schema.pattern}\``);
  if (schema.default !== undefined) rules.push(`default ${JSON.stringify(schema.default)}`);
  return rules.join('; ');
}

/** docs/api.md: the API reference, rendered from the OpenAPI document so that it cannot drift. */
export function renderApiReference(doc: OpenAPIObject): string {
  const out: string[] = [
    '# Berth API reference',
    '',
    '<!-- Generated from the OpenAPI document by `npm run docs`. Do not edit by hand. -->',
    '',
    `Version ${doc.info.version}. ${doc.info.description ?? ''}`,
    '',
    'The machine-readable document is served at `GET /docs` and kept in [openapi.json](openapi.json).',
    'JSON is camelCase. Slow changes answer `202` with an `operationId`; poll `GET /v1/operations/{id}`.',
    'Every error has the body [ErrorView](#errorview).',
    '',
  ];
  const byTag = new Map<string, string[]>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = (item as Partial<Record<(typeof METHODS)[number], Operation>>)[method];
      if (!op) continue;
      const tag = op.tags?.[0] ?? 'other';
      const lines = byTag.get(tag) ?? [];
      lines.push(`### ${method.toUpperCase()} ${path}`, '', op.summary ?? '', '');
      if (op.description) lines.push(op.description, '');
      const params = op.parameters ?? [];
      if (params.length > 0) {
        lines.push('| parameter | in | type | required | rules |', '|---|---|---|---|---|');
        for (const p of params) {
          const type = p.schema ? typeOf(p.schema) : '';
          lines.push(
            `| ${p.name} | ${p.in} | ${type} | ${p.required ? 'yes' : 'no'} | ${cell(p.schema ? rulesOf(p.schema) : '')} |`,
          );
        }
        lines.push('');
      }
      const body = op.requestBody?.content?.['application/json']?.schema;
      if (body) lines.push(`Request body: ${typeOf(body)}`, '');
      lines.push('| status | body | when |', '|---|---|---|');
      for (const [status, res] of Object.entries(op.responses)) {
        const schema = res.content?.['application/json']?.schema;
        lines.push(`| ${status} | ${schema ? typeOf(schema) : ''} | ${cell(res.description ?? '')} |`);
      }
      lines.push('');
      byTag.set(tag, lines);
    }
  }
  for (const [tag, lines] of byTag) out.push(`## ${tag}`, '', ...lines);

  out.push('## Schemas', '');
  for (const [name, schema] of Object.entries((doc.components?.schemas ?? {}) as Record<string, Schema>)) {
    out.push(`### ${name}`, '', '| field | type | required | rules | description |', '|---|---|---|---|---|');
    for (const [field, prop] of Object.entries(schema.properties ?? {})) {
      const required = schema.required?.includes(field) ? 'yes' : 'no';
      out.push(
        `| ${field} | ${typeOf(prop)} | ${required} | ${cell(rulesOf(prop))} | ${cell(prop.description ?? '')} |`,
      );
    }
    out.push('');
  }
  return `${out
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trimEnd()}\n`;
}
