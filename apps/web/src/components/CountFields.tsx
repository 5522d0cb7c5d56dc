import { FormGroup, NumberInput, Radio } from '@patternfly/react-core';
import type { CreateInstanceDto } from '../generated/api-types';
import { FieldError, type Failure } from './FieldError';

/** How many instances one create makes: exactly `count` (all or none), or from `min` up to `max` (Nova's min/max). */
export interface Count {
  mode: 'exact' | 'range';
  count: number;
  min: number;
  max: number;
}

export const ONE: Count = { mode: 'exact', count: 1, min: 1, max: 1 };

/** The API's own bound on one request. */
const MOST = 100;

/** The fewest instances the create makes if it makes any: what the quota must hold. */
export const fewest = (c: Count) => (c.mode === 'exact' ? c.count : c.min);

/** The request's count fields: none for one instance. */
export function countBody(c: Count): Pick<CreateInstanceDto, 'count' | 'minCount' | 'maxCount'> {
  if (c.mode === 'range') return { minCount: c.min, maxCount: c.max };
  return c.count > 1 ? { count: c.count } : {};
}

/** The number fields of a create, each with the API's message for it. */
export function CountFields({
  value,
  onChange,
  failure,
}: {
  value: Count;
  onChange: (c: Count) => void;
  failure: Failure | null;
}) {
  const number = (key: 'count' | 'min' | 'max', label: string) => {
    const set = (n: number) => {
      const next = { ...value, [key]: Math.min(MOST, Math.max(1, Math.trunc(n) || 1)) };
      // The range stays a range: raising the least raises the most, and lowering the most lowers the least.
      if (key === 'min') next.max = Math.max(next.max, next.min);
      if (key === 'max') next.min = Math.min(next.min, next.max);
      onChange(next);
    };
    const field = { count: 'count', min: 'minCount', max: 'maxCount' }[key];
    return (
      <FormGroup label={label} fieldId={`create-${key}`}>
        <NumberInput
          id={`create-${key}`}
          value={value[key]}
          min={1}
          max={MOST}
          onMinus={() => set(value[key] - 1)}
          onPlus={() => set(value[key] + 1)}
          onChange={(e) => set(Number((e.target as HTMLInputElement).value))}
          inputAriaLabel={label}
          minusBtnAriaLabel={`${label}: one fewer`}
          plusBtnAriaLabel={`${label}: one more`}
        />
        <FieldError failure={failure} name={field} />
      </FormGroup>
    );
  };
  return (
    <>
      <FormGroup role="radiogroup" label="Number of instances" fieldId="create-count-mode" isInline>
        <Radio
          id="create-count-exact"
          name="create-count-mode"
          label="Exactly this many, or none"
          isChecked={value.mode === 'exact'}
          onChange={() => onChange({ ...value, mode: 'exact' })}
        />
        <Radio
          id="create-count-range"
          name="create-count-mode"
          label="As many as fit, within a range"
          isChecked={value.mode === 'range'}
          onChange={() => onChange({ ...value, mode: 'range' })}
        />
      </FormGroup>
      {value.mode === 'exact' ? (
        number('count', 'How many')
      ) : (
        <>
          {number('min', 'At least')}
          {number('max', 'Up to')}
        </>
      )}
    </>
  );
}
