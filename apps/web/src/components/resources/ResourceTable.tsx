import {
  Button,
  ClipboardCopy,
  Flex,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  Spinner,
} from '@patternfly/react-core';
import { Table, Tbody, Td, Th, Thead, Tr } from '@patternfly/react-table';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useSession } from '../../App';
import { ConfirmDialog } from '../ConfirmDialog';
import { ErrorAlert } from '../ErrorAlert';
import { fieldText } from './fields';
import type { ResourceDef } from './resource-defs';
import { ResourceForm } from './ResourceForm';

type Item = { id: string };

/** What the table has open: a create, an edit or a delete of one row, or a secret shown once. */
type Open<T> =
  { kind: 'create' } | { kind: 'edit'; item: T } | { kind: 'remove'; item: T } | { kind: 'secret'; value: string };

/** A resource's list, with create, edit and delete where the session's role may (resource-defs.ts). */
export function ResourceTable<T extends Item>({ def }: { def: ResourceDef<T> }) {
  const { client, session } = useSession();
  const queries = useQueryClient();
  const list = useQuery({
    queryKey: [def.key],
    queryFn: async () => (await client.get<{ items: T[] }>(def.path)).items,
  });
  const [open, setOpen] = useState<Open<T> | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const may = (roles: readonly string[] | undefined) => roles?.includes(session.role) ?? false;
  const refresh = () => void queries.invalidateQueries({ queryKey: [def.key] });
  const remove = async (item: T) => {
    setOpen(null);
    setFailure(null);
    try {
      await client.request('DELETE', `${def.path}/${item.id}`);
    } catch (error) {
      setFailure(error);
    }
    refresh();
  };
  const created = (answer: unknown) => {
    refresh();
    const secret = def.create?.reveal && (answer as Record<string, unknown>)[def.create.reveal];
    setOpen(typeof secret === 'string' ? { kind: 'secret', value: secret } : null);
  };
  if (list.error) return <ErrorAlert error={list.error} />;
  if (!list.data) return <Spinner aria-label={`Loading ${def.title.toLowerCase()}`} />;
  return (
    <Flex direction={{ default: 'column' }}>
      {may(def.create?.roles) && (
        <Button variant="primary" onClick={() => setOpen({ kind: 'create' })}>
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
            <Tr key={item.id} data-row={nameOf(def, item)}>
              {def.columns.map((c) => (
                <Td key={c.label} dataLabel={c.label}>
                  {c.value(item)}
                </Td>
              ))}
              <Td dataLabel="Actions">
                <RowActions def={def} item={item} may={may} onOpen={setOpen} />
              </Td>
            </Tr>
          ))}
        </Tbody>
      </Table>
      {open && (
        <Dialogs
          def={def}
          open={open}
          onClose={() => setOpen(null)}
          onCreated={created}
          onChanged={() => {
            refresh();
            setOpen(null);
          }}
          onRemove={(item) => void remove(item)}
        />
      )}
    </Flex>
  );
}

/** A row's edit and delete buttons, where the role may. */
function RowActions<T extends Item>(props: {
  def: ResourceDef<T>;
  item: T;
  may: (roles: readonly string[] | undefined) => boolean;
  onOpen: (open: Open<T>) => void;
}) {
  const { def, item, may, onOpen } = props;
  return (
    <Flex spaceItems={{ default: 'spaceItemsSm' }}>
      {def.edit && may(def.edit.roles) && (
        <Button variant="secondary" size="sm" onClick={() => onOpen({ kind: 'edit', item })}>
          Edit
        </Button>
      )}
      {def.remove && may(def.remove.roles) && (
        <Button variant="secondary" size="sm" onClick={() => onOpen({ kind: 'remove', item })}>
          {def.remove.label ?? 'Delete'}
        </Button>
      )}
    </Flex>
  );
}

const nameOf = <T extends Item>(def: ResourceDef<T>, item: T) => def.columns[0]?.value(item) ?? item.id;

interface DialogsProps<T extends Item> {
  def: ResourceDef<T>;
  open: Open<T>;
  onClose: () => void;
  onCreated: (answer: unknown) => void;
  onChanged: () => void;
  onRemove: (item: T) => void;
}

/** The dialog the table has open: create, edit, delete, or a secret shown once. */
function Dialogs<T extends Item>({ def, open, onClose, onCreated, onChanged, onRemove }: DialogsProps<T>) {
  const { client, session } = useSession();
  const who = { user: session.user, project: session.project, role: session.role };
  return (
    <>
      {open.kind === 'create' && def.create && (
        <ResourceForm
          title={`Create in ${def.title.toLowerCase()}`}
          formId={`create-${def.key}`}
          fields={def.create.fields}
          initial={Object.fromEntries(
            def.create.fields.map((f) => [f.name, f.initial?.(who) ?? (f.required ? (f.options?.[0] ?? '') : '')]),
          )}
          submitLabel="Create"
          send={async (body) => (await client.request('POST', def.path, { body })).body}
          onDone={onCreated}
          onClose={onClose}
        />
      )}
      {open.kind === 'edit' && def.edit && (
        <ResourceForm
          title={`Change ${nameOf(def, open.item)}`}
          formId={`edit-${def.key}`}
          fields={def.edit.fields}
          initial={Object.fromEntries(
            def.edit.fields.map((f) => [f.name, fieldText(f, (open.item as Record<string, unknown>)[f.name])]),
          )}
          submitLabel="Save"
          edit
          send={async (body) => (await client.request('PUT', `${def.path}/${open.item.id}`, { body })).body}
          onDone={onChanged}
          onClose={onClose}
        />
      )}
      {open.kind === 'remove' && def.remove && (
        <ConfirmDialog
          title={`${def.remove.label ?? 'Delete'} ${def.remove.what(open.item)}?`}
          variant="danger"
          onConfirm={() => onRemove(open.item)}
          onClose={onClose}
        />
      )}
      {open.kind === 'secret' && <SecretDialog secret={open.value} onClose={onClose} />}
    </>
  );
}

/** A secret the API shows this once (a token's): to copy now, never stored by the console. */
function SecretDialog({ secret, onClose }: { secret: string; onClose: () => void }) {
  return (
    <Modal isOpen onClose={onClose} variant="small" aria-labelledby="secret-title">
      <ModalHeader title="Copy it now: it is not shown again" labelId="secret-title" />
      <ModalBody>
        <ClipboardCopy isReadOnly hoverTip="Copy" clickTip="Copied" data-testid="secret" textAriaLabel="The secret">
          {secret}
        </ClipboardCopy>
      </ModalBody>
      <ModalFooter>
        <Button onClick={onClose}>Done</Button>
      </ModalFooter>
    </Modal>
  );
}
