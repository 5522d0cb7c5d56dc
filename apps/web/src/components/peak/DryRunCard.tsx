import {
  ActionGroup,
  Button,
  Card,
  CardBody,
  CardTitle,
  Form,
  FormGroup,
  FormSelect,
  FormSelectOption,
  List,
  ListItem,
  NumberInput,
} from '@patternfly/react-core';
import { useState, type FormEvent } from 'react';
import { useSession } from '../../App';
import type { DryRunView } from '../../generated/api-types';
import { useCatalog } from '../../queries';
import { explain } from '../../session';
import { FieldError, FormFailure, type Failure } from '../FieldError';

type Choice = 'flavor' | 'image' | 'network';

/** POST /v1/scheduler/dry-run: where a create would go, and the reason each other host would refuse it. */
export function DryRunCard() {
  const { client } = useSession();
  const catalog = useCatalog();
  const [chosen, setChosen] = useState<Record<Choice, string>>({ flavor: '', image: '', network: '' });
  const [count, setCount] = useState(1);
  const [answer, setAnswer] = useState<DryRunView | null>(null);
  const [failure, setFailure] = useState<Failure | null>(null);
  const image = catalog.data?.images.find((i) => i.name === chosen.image);
  const ask = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(null);
    try {
      const body = { name: 'dry-run', kind: image?.kind ?? 'container', ...chosen, count };
      setAnswer((await client.request<DryRunView>('POST', '/v1/scheduler/dry-run', { body })).body);
    } catch (error) {
      setFailure(explain(error));
    }
  };
  const options: Record<Choice, Array<{ id: string; name: string }>> = {
    flavor: catalog.data?.flavors ?? [],
    image: catalog.data?.images ?? [],
    network: catalog.data?.networks ?? [],
  };
  return (
    <Card>
      <CardTitle component="h2">Where would they go</CardTitle>
      <CardBody>
        <Form isHorizontal onSubmit={(e) => void ask(e)}>
          {(['flavor', 'image', 'network'] as const).map((field) => (
            <FormGroup key={field} label={field[0]!.toUpperCase() + field.slice(1)} fieldId={`dry-run-${field}`}>
              <FormSelect
                id={`dry-run-${field}`}
                value={chosen[field]}
                onChange={(_e, v) => setChosen((c) => ({ ...c, [field]: v }))}
              >
                <FormSelectOption value="" label={`Choose a ${field}`} isPlaceholder />
                {options[field].map((o) => (
                  <FormSelectOption key={o.id} value={o.name} label={o.name} />
                ))}
              </FormSelect>
              <FieldError failure={failure} name={field} />
            </FormGroup>
          ))}
          <FormGroup label="Count" fieldId="dry-run-count">
            <NumberInput
              id="dry-run-count"
              value={count}
              min={1}
              onMinus={() => setCount((n) => Math.max(1, n - 1))}
              onPlus={() => setCount((n) => n + 1)}
              onChange={(e) => setCount(Number((e.target as HTMLInputElement).value))}
              inputAriaLabel="Count"
              minusBtnAriaLabel="Fewer"
              plusBtnAriaLabel="More"
            />
            <FieldError failure={failure} name="count" />
          </FormGroup>
          <ActionGroup>
            <Button type="submit">Try</Button>
          </ActionGroup>
        </Form>
        <FormFailure failure={failure} />
        {answer && <DryRunAnswer answer={answer} />}
      </CardBody>
    </Card>
  );
}

function DryRunAnswer({ answer }: { answer: DryRunView }) {
  return (
    <section aria-label="Dry run" data-testid="dry-run">
      <p data-testid="dry-run-placed">
        {answer.wouldPlace} of {answer.asked} would be placed, over {answer.hostsConsidered} hosts ({answer.passed}{' '}
        passed every filter).
      </p>
      {answer.explanation && <p>{answer.explanation}</p>}
      <List>
        {answer.placements.map((p) => (
          <ListItem key={p.host}>{`${p.host}: ${p.instances}`}</ListItem>
        ))}
        {answer.reasons.map((r) => (
          <ListItem key={`${r.filter}-${r.code}`}>{`${r.hosts} refused by ${r.filter}: ${r.example}`}</ListItem>
        ))}
      </List>
    </section>
  );
}
