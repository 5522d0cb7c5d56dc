import {
  Button,
  Form,
  FormGroup,
  FormHelperText,
  FormSelect,
  FormSelectOption,
  HelperText,
  HelperTextItem,
  Modal,
  ModalBody,
  ModalFooter,
  ModalHeader,
  TextArea,
  TextInput,
} from '@patternfly/react-core';
import { useState, type FormEvent } from 'react';
import { explain } from '../../session';
import { FieldError, FormFailure, type Failure } from '../FieldError';
import { formBody, type FieldDef, type FieldValues } from './fields';

interface Props {
  title: string;
  /** The form's id; each field's is `<formId>-<name>`. */
  formId: string;
  fields: readonly FieldDef[];
  initial: FieldValues;
  submitLabel: string;
  /** An edit sends an emptied map or list as empty (formBody). */
  edit?: boolean;
  /** Sends the body; its answer goes to onDone. */
  send: (body: Record<string, unknown>) => Promise<unknown>;
  onDone: (answer: unknown) => void;
  onClose: () => void;
}

/**
 * A resource's create or edit form in a dialog: the text of each field checked before sending (fields.ts), then the
 * API's refusal shown under the field it names, or above the form when it names none. Nothing is sent half-read.
 */
export function ResourceForm(props: Props) {
  const [values, setValues] = useState<FieldValues>(props.initial);
  const [problems, setProblems] = useState<Record<string, string>>({});
  const [failure, setFailure] = useState<Failure | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(null);
    const { body, problems: found } = formBody(props.fields, values, props.edit);
    setProblems(found);
    if (Object.keys(found).length > 0) return;
    setBusy(true);
    try {
      props.onDone(await props.send(body));
    } catch (error) {
      setFailure(explain(error));
      setBusy(false);
    }
  };
  const { formId } = props;
  return (
    <Modal isOpen onClose={props.onClose} variant="small" aria-labelledby={`${formId}-title`}>
      <ModalHeader title={props.title} labelId={`${formId}-title`} />
      <ModalBody>
        <FormFailure failure={failure} />
        <Form id={formId} onSubmit={(e) => void submit(e)}>
          {props.fields.map((f) => (
            <FormGroup key={f.name} label={f.label} fieldId={`${formId}-${f.name}`} isRequired={f.required ?? false}>
              <FieldInput
                id={`${formId}-${f.name}`}
                field={f}
                value={values[f.name] ?? ''}
                onChange={(v) => setValues((old) => ({ ...old, [f.name]: v }))}
              />
              <FieldHelp help={f.help} problem={problems[f.name]} />
              <FieldError failure={failure} name={f.name} />
            </FormGroup>
          ))}
        </Form>
      </ModalBody>
      <ModalFooter>
        <Button type="submit" form={formId} isLoading={busy} isDisabled={busy}>
          {props.submitLabel}
        </Button>
        <Button variant="link" onClick={props.onClose}>
          Cancel
        </Button>
      </ModalFooter>
    </Modal>
  );
}

const INPUT_TYPES = { number: 'number', password: 'password', datetime: 'datetime-local' } as const;

function FieldInput({
  id,
  field,
  value,
  onChange,
}: {
  id: string;
  field: FieldDef;
  value: string;
  onChange: (v: string) => void;
}) {
  if (field.type === 'select') {
    return (
      <FormSelect id={id} value={value} onChange={(_e, v) => onChange(v)}>
        {!field.required && <FormSelectOption value="" label="(the API's default)" />}
        {(field.options ?? []).map((o) => (
          <FormSelectOption key={o} value={o} label={o} />
        ))}
      </FormSelect>
    );
  }
  if (field.type === 'map' || field.type === 'bounds') {
    return (
      <TextArea
        id={id}
        value={value}
        placeholder={field.placeholder}
        onChange={(_e, v) => onChange(v)}
        resizeOrientation="vertical"
      />
    );
  }
  const type = field.type in INPUT_TYPES ? INPUT_TYPES[field.type as keyof typeof INPUT_TYPES] : 'text';
  return (
    <TextInput id={id} type={type} value={value} placeholder={field.placeholder} onChange={(_e, v) => onChange(v)} />
  );
}

function FieldHelp({ help, problem }: { help: string | undefined; problem: string | undefined }) {
  if (!help && !problem) return null;
  return (
    <FormHelperText>
      <HelperText>
        <HelperTextItem variant={problem ? 'error' : 'default'}>{problem ?? help}</HelperTextItem>
      </HelperText>
    </FormHelperText>
  );
}
