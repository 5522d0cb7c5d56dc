import { Button, Modal, ModalBody, ModalFooter, ModalHeader } from '@patternfly/react-core';
import type { ReactNode } from 'react';
import { ErrorAlert } from './ErrorAlert';

interface Props {
  /** The question, e.g. "Delete flavor m1.tiny?". */
  title: string;
  /** What confirming does; absent when the title says it all. */
  children?: ReactNode;
  confirmLabel?: string;
  variant?: 'primary' | 'warning' | 'danger';
  /** Why the last try was refused (the dialog stays open). */
  failure?: unknown;
  onConfirm: () => void;
  onClose: () => void;
}

/** Every action that cannot be taken back asks first, the same way: the question, what it does, confirm or cancel. */
export function ConfirmDialog({ title, children, confirmLabel = 'Confirm', variant = 'primary', ...props }: Props) {
  const failed = props.failure !== undefined && props.failure !== null;
  return (
    <Modal isOpen onClose={props.onClose} variant="small" aria-labelledby="confirm-title">
      <ModalHeader title={title} labelId="confirm-title" />
      {(children || failed) && (
        <ModalBody>
          {failed && <ErrorAlert error={props.failure} />}
          {children}
        </ModalBody>
      )}
      <ModalFooter>
        <Button variant={variant} onClick={props.onConfirm}>
          {confirmLabel}
        </Button>
        <Button variant="link" onClick={props.onClose}>
          Cancel
        </Button>
      </ModalFooter>
    </Modal>
  );
}
