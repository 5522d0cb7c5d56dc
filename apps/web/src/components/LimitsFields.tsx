import { FormGroup, FormHelperText, HelperText, HelperTextItem, TextInput } from '@patternfly/react-core';
import type { FlavorView } from '../generated/api-types';
import { boundsText, flavorValue, settableThrottles, type LimitInputs } from '../limits';
import type { Failure } from './FieldError';

interface Props {
  /** Tells the ids apart when two forms are on one page. */
  idPrefix: string;
  flavor: FlavorView;
  admin: boolean;
  inputs: LimitInputs;
  onChange: (inputs: LimitInputs) => void;
  /** Problems found before asking (limitProblems), by the API's field name. */
  problems: Record<string, string>;
  failure: Failure | null;
}

/**
 * One field per throttle the caller may set for this flavor, each with the flavor's value and the range it allows;
 * what is wrong with a value shows under it, found early or in the API's own words.
 */
export function LimitsFields({ idPrefix, flavor, admin, inputs, onChange, problems, failure }: Props) {
  const throttles = settableThrottles(flavor, admin);
  if (throttles.length === 0) return <p>The flavor {flavor.name} sets every limit; none can be chosen per instance.</p>;
  return (
    <>
      {throttles.map(({ key, label, unit }) => {
        const id = `${idPrefix}-${key}`;
        const field = `limits.${key}`;
        const problem = problems[field] ?? failure?.fields[field];
        const range = boundsText(flavor, key);
        return (
          <FormGroup key={key} label={unit ? `${label} (${unit})` : label} fieldId={id}>
            <TextInput
              id={id}
              inputMode="numeric"
              value={inputs[key] ?? ''}
              placeholder={flavorValue(flavor, key)}
              validated={problem ? 'error' : 'default'}
              onChange={(_e, value) => onChange({ ...inputs, [key]: value })}
            />
            <FormHelperText>
              <HelperText>
                <HelperTextItem variant={problem ? 'error' : 'default'}>
                  {problem ??
                    `Flavor: ${flavorValue(flavor, key)}${range && !admin ? `; you may choose ${range}` : ''}`}
                </HelperTextItem>
              </HelperText>
            </FormHelperText>
          </FormGroup>
        );
      })}
    </>
  );
}
