import { FormHelperText, HelperText, HelperTextItem } from '@patternfly/react-core';
import type { explain } from '../session';

/** What the API said went wrong, with each field it named (session.ts explain). */
export type Failure = ReturnType<typeof explain>;

/** The API's own messages for one field of a refused form (and for the parts of it, `name.*`), under that field. */
export function FieldError({ failure, name }: { failure: Failure | null; name: string }) {
  const messages = Object.entries(failure?.fields ?? {})
    .filter(([field]) => field === name || field.startsWith(`${name}.`))
    .map(([field, message]) => ({ field, message }));
  if (messages.length === 0) return null;
  return (
    <FormHelperText>
      <HelperText>
        {messages.map(({ field, message }) => (
          <HelperTextItem key={field} variant="error">
            {message}
          </HelperTextItem>
        ))}
      </HelperText>
    </FormHelperText>
  );
}

/** The API's message for a refused form when it named no field (a field's own shows under it: FieldError). */
export function FormFailure({ failure }: { failure: Failure | null }) {
  if (!failure || Object.keys(failure.fields).length > 0) return null;
  return <p role="alert">{failure.message}</p>;
}
