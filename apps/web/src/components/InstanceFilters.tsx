import { FormSelect, FormSelectOption, SearchInput, ToolbarItem } from '@patternfly/react-core';
import type { InstanceView } from '../generated/api-types';

const STATUSES: Array<InstanceView['status']> = [
  'BUILDING',
  'ACTIVE',
  'SHUTOFF',
  'MIGRATING',
  'VERIFY_MIGRATION',
  'ERROR',
];

export interface Filter {
  name: string;
  status: string;
  kind: string;
}

export const NO_FILTER: Filter = { name: '', status: '', kind: '' };

export const matches = (i: InstanceView, f: Filter) =>
  i.name.includes(f.name) && (f.status === '' || i.status === f.status) && (f.kind === '' || i.kind === f.kind);

/** The instance list's filters: a name, a status, a kind. */
export function InstanceFilters({ filter, onChange }: { filter: Filter; onChange: (f: Filter) => void }) {
  return (
    <>
      <ToolbarItem>
        <SearchInput
          aria-label="Filter by name"
          placeholder="Name"
          value={filter.name}
          onChange={(_, name) => onChange({ ...filter, name })}
        />
      </ToolbarItem>
      <ToolbarItem>
        <FormSelect
          aria-label="Filter by status"
          value={filter.status}
          onChange={(_, status) => onChange({ ...filter, status })}
        >
          <FormSelectOption value="" label="Any status" />
          {STATUSES.map((s) => (
            <FormSelectOption key={s} value={s} label={s} />
          ))}
        </FormSelect>
      </ToolbarItem>
      <ToolbarItem>
        <FormSelect
          aria-label="Filter by kind"
          value={filter.kind}
          onChange={(_, kind) => onChange({ ...filter, kind })}
        >
          <FormSelectOption value="" label="Any kind" />
          <FormSelectOption value="container" label="Containers" />
          <FormSelectOption value="vm" label="Virtual machines" />
        </FormSelect>
      </ToolbarItem>
    </>
  );
}
