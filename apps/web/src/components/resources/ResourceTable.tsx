import {
  Button,
  Flex,
  Form,
  FormGroup,
  FormSelect,
  FormSelectOption,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  Spinner,
  TextInput,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useSession } from '../../App';
import { explain } from '../../session';
import { ErrorAlert } from '../ErrorAlert';
import { FieldError, FormFailure, type Failure } from '../FieldError';
import type { FieldDef, ResourceDef } from './resource-defs';

type Item = { id: string };

/** A resource's list, with a create form and a delete of each row where the session's role may (resource-defs.ts). */
export function ResourceTable<T extends Item>({ def }: { def: ResourceDef<T> }) {
  const { client, session } = useSession();
  const queries = useQueryClient();
  const list = useQuery({
    queryKey: [def.key],
    queryFn: async () => (await client.get<{ items: T[] }>(def.path)).items,
  });
  const [creating, setCreating] = useState(false);
  const [removing, setRemoving] = useState<T | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const may = (roles: readonly string[] | undefined) => roles?.includes(session.role) ?? false;
  const remove = async (item: T) => {
    setRemoving(null);
    setFailure(null);
    try {
      await client.request('DELETE', `${def.path}/${item.id}`);
    } catch (error) {
      setFailure(error);
    }
    await queries.invalidateQueries({ queryKey: [def.key] });
  };
  if (list.error) return <ErrorAlert error={list.error} />;
  if (!list.data) return <Spinner aria-label={`Loading ${def.title.toLowerCase()}`} />;
  return (
    <Flex direction={{ default: 'column' }}>
      {may(def.create?.roles) && (
        <Button variant="primary" onClick={() => setCreating(true)}>
          Create
        </Button>
      )}
      {failure !== null && <ErrorAlert error={failure} />}
      <Table aria-label={def.title} variant="compact">
        <Thead>
          <Tr>
            {def.columns.map((c) => (
              <Th key={c.label}>{c.label}</Th>
            ))}
            <Th screenReaderText="Actions" />
          </Tr>
        </Thead>
        <Tbody>
          {list.data.map((item) => (
            <Tr key={item.id} data-row={def.columns[0]?.value(item)}>
              {def.columns.map((c) => (
                <Td key={c.label} dataLabel={c.label}>
                  {c.value(item)}
                </Td>
              ))}
              <Td dataLabel="Actions">
                {def.remove && may(def.remove.roles) && (
                  <Button variant="secondary" size="sm" onClick={() => setRemoving(item)}>
                    {def.remove.label ?? 'Delete'}
                  </Button>
                )}
              </Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
      {creating && def.create && (
        <CreateDialog
          def={def}
          fields={def.create.fields}
          onClose={() => setCreating(false)}
          onCreated={() => void queries.invalidateQueries({ queryKey: [def.key] })}
        />
      )}
      {removing && def.remove && (
        <RemoveDialog
          title={`${def.remove.label ?? 'Delete'} ${def.remove.what(removing)}?`}
          onConfirm={() => void remove(removing)}
          onClose={() => setRemoving(null)}
        />
      )}
    </Flex>
  );
}

function RemoveDialog(props: { title: string; onConfirm: () => void; onClose: () => void }) {
  return (
    <Modal isOpen onClose={props.onClose} variant="small" aria-labelledby="remove-title">
      <ModalHeader title={props.title} labelId="remove-title" />
      <ModalFooter>
        <Button variant="danger" onClick={props.onConfirm}>
          Confirm
        </Button>
        <Button variant="link" onClick={props.onClose}>
          Cancel
        </Button>
      </ModalFooter>
    </Modal>
  );
}

function CreateDialog<T extends Item>(props: {
  def: ResourceDef<T>;
  fields: FieldDef[];
  onClose: () => void;
  onCreated: () => void;
}) {
  const { client } = useSession();
  const [values, setValues] = useState<Record<string, string>>(() =>
    Object.fromEntries(props.fields.map((f) => [f.name, f.options?.[0] ?? ''])),
  );
  const [failure, setFailure] = useState<Failure | null>(null);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(null);
    const body = Object.fromEntries(
      props.fields
        .filter((f) => values[f.name] !== '' || f.required)
        .map((f) => [f.name, f.type === 'number' ? Number(values[f.name]) : values[f.name]]),
    );
    try {
      await client.request('POST', props.def.path, { body });
      props.onCreated();
      props.onClose();
    } catch (error) {
      setFailure(explain(error));
    }
  };
  const formId = `create-${props.def.key}`;
  return (
    <Modal isOpen onClose={props.onClose} variant="small" aria-labelledby={`${formId}-title`}>
      <ModalHeader title={`Create in ${props.def.title.toLowerCase()}`} labelId={`${formId}-title`} />
      <ModalBody>
        <FormFailure failure={failure} />
        <Form id={formId} onSubmit={(e) => void submit(e)}>
          {props.fields.map((f) => (
            <FormGroup key={f.name} label={f.label} fieldId={`${formId}-${f.name}`} isRequired={f.required ?? false}>
              {f.type === 'select' ? (
                <FormSelect
                  id={`${formId}-${f.name}`}
                  value={values[f.name] ?? ''}
                  onChange={(_e, v) => setValues((old) => ({ ...old, [f.name]: v }))}
                >
                  {(f.options ?? []).map((o) => (
                    <FormSelectOption key={o} value={o} label={o} />
                  ))}
                </FormSelect>
              ) : (
                <TextInput
                  id={`${formId}-${f.name}`}
                  type={f.type}
                  value={values[f.name] ?? ''}
                  placeholder={f.placeholder}
                  onChange={(_e, v) => setValues((old) => ({ ...old, [f.name]: v }))}
                />
              )}
              <FieldError failure={failure} name={f.name} />
            </FormGroup>
          ))}
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form={formId}>
          Create
        </Button>
        <Button variant="link" onClick={props.onClose}>
          Cancel
        </Button>
      </ModalFooter>
    </Modal>
  );
}
