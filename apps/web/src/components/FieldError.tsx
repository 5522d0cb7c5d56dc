import { FormHelperText, HelperText, HelperTextItem } from '@patternfly/react-core';
import type { explain } from '../session';

/** What the API said went wrong, with each field it named (session.ts explain). */
export type Failure = ReturnType<typeof explain>;

/** The API's own message for one field of a refused form, under that field. */
export function FieldError({ failure, name }: { failure: Failure | null; name: string }) {
  const message = failure?.fields[name];
  if (!message) return null;
  return (
    <FormHelperText>
      <HelperText>
        <HelperTextItem variant="error">{message}</HelperTextItem>
      </HelperText>
    </FormHelperText>
  );
}

/** The API's message for a refused form when it named no field (a field's own shows under it: FieldError). */
export function FormFailure({ failure }: { failure: Failure | null }) {
  if (!failure || Object.keys(failure.fields).length > 0) return null;
  return <p role="alert">{failure.message}</p>;
}
