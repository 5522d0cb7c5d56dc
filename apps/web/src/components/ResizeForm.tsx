import { Button, Flex, FormSelect, FormSelectOption } from '@patternfly/react-core';
import { useState } from 'react';
import { useSession } from '../App';
import type { InstanceView } from '../generated/api-types';
import { useCatalog } from '../queries';
import { ErrorAlert } from './ErrorAlert';

/** A live resize to another flavor; the applied limits change on the page when the host has read them back. */
export function ResizeForm({ instance }: { instance: InstanceView }) {
  const { client } = useSession();
  const flavors = useCatalog().data?.flavors ?? [];
  const [flavor, setFlavor] = useState('');
  const [failure, setFailure] = useState<unknown>(null);
  const resize = async () => {
    setFailure(null);
    try {
      await client.request('POST', `/v1/instances/${instance.id}/actions`, { body: { action: 'resize', flavor } });
      setFlavor('');
    } catch (error) {
      setFailure(error);
    }
  };
  return (
    <>
      {failure !== null && <ErrorAlert error={failure} />}
      <Flex>
        <FormSelect aria-label="New flavor" value={flavor} onChange={(_, v) => setFlavor(v)}>
          <FormSelectOption value="" label="Resize to…" />
          {flavors
            .filter((f) => f.id !== instance.flavor.id)
            .map((f) => (
              <FormSelectOption
                key={f.id}
                value={f.id}
                label={`${f.name}: ${f.vcpus} vCPU, ${f.ramMb} MB, ${f.diskGb} GB`}
              />
            ))}
        </FormSelect>
        <Button variant="secondary" isDisabled={!flavor || instance.taskState !== null} onClick={() => void resize()}>
          Resize
        </Button>
      </Flex>
    </>
  );
}
