/** A rule a request field broke. The API turns a list of these into a 400 that names each field. */
export interface FieldError {
  field: string;
  rule: string;
  message: string;
}

export type Checked<T> = { ok: true; value: T } | { ok: false; errors: FieldError[] };

export const ok = <T>(value: T): Checked<T> => ({ ok: true, value });
export const invalid = <T = never>(field: string, rule: string, message: string): Checked<T> => ({
  ok: false,
  errors: [{ field, rule, message }],
});
