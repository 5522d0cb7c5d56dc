/**
 * The fields of the resources' forms (ResourceForm): what each shows and how its text becomes the request's value.
 *   map       key=value, one per line: an object of strings (metadata, extra specs)
 *   list      names separated by commas or spaces: an array (an aggregate's hosts)
 *   bounds    name=min..max, one per line, either end optional: a flavor's limitBounds
 *   datetime  the browser's local date and time: an ISO 8601 instant
 */
export interface FieldDef {
  name: string;
  label: string;
  type: 'text' | 'number' | 'password' | 'select' | 'map' | 'list' | 'bounds' | 'datetime';
  /** A select's values; an optional select also offers '' (the API's default). */
  options?: readonly string[];
  required?: boolean;
  placeholder?: string;
  /** A line under the field saying what it takes. */
  help?: string;
  /** Its value when the form opens, from who is logged in. */
  initial?: (who: { user: string; project: string; role: string }) => string;
}

/** The text each field holds; '' for an optional field means "not sent" (the API's default). */
export type FieldValues = Record<string, string>;

/**
 * The request body the fields make, or what is wrong with the text, by field name (the API's names). An edit (`all`)
 * sends an emptied map or list as empty, so that it can take the last entry away.
 */
export function formBody(
  fields: readonly FieldDef[],
  values: FieldValues,
  all = false,
): {
  body: Record<string, unknown>;
  problems: Record<string, string>;
} {
  const body: Record<string, unknown> = {};
  const problems: Record<string, string> = {};
  for (const f of fields) {
    const text = values[f.name] ?? '';
    const emptied = all && (f.type === 'map' || f.type === 'list');
    if (text.trim() === '' && !f.required && !emptied) continue;
    const parsed = parse(f, text);
    if (parsed.ok) body[f.name] = parsed.value;
    else problems[f.name] = parsed.problem;
  }
  return { body, problems };
}

type Parsed = { ok: true; value: unknown } | { ok: false; problem: string };

const ok = (value: unknown): Parsed => ({ ok: true, value });
const wrong = (problem: string): Parsed => ({ ok: false, problem });

function parse(f: FieldDef, text: string): Parsed {
  switch (f.type) {
    case 'number':
      return text.trim() === '' ? wrong(`${f.name} is required`) : ok(Number(text));
    case 'map':
      return pairs(f.name, text, (v) => v);
    case 'bounds':
      return pairs(f.name, text, range);
    case 'list':
      return ok(text.split(/[\s,]+/).filter((s) => s !== ''));
    case 'datetime': {
      const at = new Date(text);
      return Number.isNaN(at.getTime()) ? wrong(`${f.name} must be a date and time`) : ok(at.toISOString());
    }
    default:
      return ok(text);
  }
}

/** `key=value` lines into an object, each value through `value` (null: that line is wrong). */
function pairs(name: string, text: string, value: (v: string) => unknown): Parsed {
  const out: Record<string, unknown> = {};
  for (const [i, line] of text.split('\n').entries()) {
    if (line.trim() === '') continue;
    const at = line.indexOf('=');
    const k = line.slice(0, at).trim();
    const v = at > 0 ? value(line.slice(at + 1).trim()) : null;
    if (!k || v === null) return wrong(`${name} line ${i + 1} must be ${lineRule(name)}`);
    out[k] = v;
  }
  return ok(out);
}

const lineRule = (name: string) =>
  name === 'limitBounds' ? 'name=min..max (either end may be left out)' : 'key=value';

/** `64..512`, `..512` or `64..` into {min, max}; null when it is not one. */
function range(text: string): { min?: number; max?: number } | null {
  const m = /^(\d*)\s*\.\.\s*(\d*)$/.exec(text);
  if (!m || (m[1] === '' && m[2] === '')) return null;
  return { ...(m[1] ? { min: Number(m[1]) } : {}), ...(m[2] ? { max: Number(m[2]) } : {}) };
}

/** The text of a value as the form shows it (an edit opens with the resource's current values). */
export function fieldText(f: FieldDef, value: unknown): string {
  if (value === null || value === undefined) return '';
  if (f.type === 'map') {
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join('\n');
  }
  if (f.type === 'list') return (value as unknown[]).join(', ');
  return typeof value === 'string' ? value : JSON.stringify(value);
}
