import { Alert } from '@patternfly/react-core';
import { explain } from '../session';

/** A failed call, in the API's own words. */
export function ErrorAlert({ error }: { error: unknown }) {
  return <Alert variant="danger" isInline title={explain(error).message} />;
}
