import Table from 'cli-table3';
import { stringify } from 'yaml';

/** No rule between rows: one line per row, as openstack prints. */
const COMPACT = { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' };

export const FORMATS = ['table', 'json', 'yaml', 'value'] as const;
export type Format = (typeof FORMATS)[number];

/** A cell: scalars as they are, a named reference by its name, anything else as compact JSON. */
export function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (Array.isArray(value)) return value.map(cell).join(', ');
  if (typeof value === 'object' && 'name' in value && typeof value.name === 'string') return value.name;
  return JSON.stringify(value);
}

/** An object's fields as dotted paths to scalars, for a vertical table: cpu.percent, memory.usedBytes. */
export function flatten(value: Record<string, unknown>, prefix = ''): Array<[string, unknown]> {
  return Object.entries(value).flatMap(([key, v]): Array<[string, unknown]> => {
    const path = prefix ? `${prefix}.${key}` : key;
    const nested = v !== null && typeof v === 'object' && !Array.isArray(v) && !('name' in v && 'id' in v);
    return nested && Object.keys(v).length > 0 ? flatten(v as Record<string, unknown>, path) : [[path, v]];
  });
}

const pick = (row: Record<string, unknown>, column: string): unknown =>
  column
    .split('.')
    .reduce<unknown>((v, key) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined), row);

/**
 * Renders an answer. `table`: rows and `columns` for a list, field and value for one object. `json`
 * and `yaml`: the data as the API gave it. `value`: the chosen columns' values, space separated, a
 * line per row, for scripts (`-o value -c id`).
 */
export function render(data: unknown, format: Format, columns: readonly string[] = []): string {
  if (format === 'json') return `${JSON.stringify(data, null, 2)}\n`;
  if (format === 'yaml') return stringify(data);
  const rows = Array.isArray(data) ? (data as Array<Record<string, unknown>>) : null;
  if (format === 'value') {
    const list = rows ?? [data as Record<string, unknown>];
    return (
      list
        .map((row) => (columns.length > 0 ? columns : Object.keys(row)).map((c) => cell(pick(row, c))).join(' '))
        .join('\n') + '\n'
    );
  }
  if (rows) {
    const cols = columns.length > 0 ? columns : Object.keys(rows[0] ?? {}).slice(0, 6);
    const table = new Table({ head: [...cols], style: { head: [], border: [] }, chars: COMPACT });
    for (const row of rows) table.push(cols.map((c) => cell(pick(row, c))));
    return `${table.toString()}\n`;
  }
  if (data === null || data === undefined || typeof data !== 'object') return `${cell(data)}\n`;
  const fields = flatten(data as Record<string, unknown>).filter(([k]) => columns.length === 0 || columns.includes(k));
  const table = new Table({ head: ['Field', 'Value'], style: { head: [], border: [] }, chars: COMPACT });
  for (const [key, value] of fields) table.push([key, cell(value)]);
  return `${table.toString()}\n`;
}
