import { ActionGroup, Alert, Button, Form, FormGroup, PageSection, TextInput, Title } from '@patternfly/react-core';
import { useState, type FormEvent } from 'react';
import { FieldError, type Failure } from '../components/FieldError';
import { explain, logIn, type Session } from '../session';

/** Name, password and project: POST /v1/auth/tokens. The API's one answer for any wrong part is shown as it is. */
export function LoginPage({ onLogin }: { onLogin: (session: Session) => void }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [project, setProject] = useState('');
  const [busy, setBusy] = useState(false);
  const [failure, setFailure] = useState<Failure | null>(null);

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setBusy(true);
    setFailure(null);
    try {
      onLogin(await logIn(user, password, project));
    } catch (error) {
      setFailure(explain(error));
      setBusy(false);
    }
  };

  const field = (name: string) => <FieldError failure={failure} name={name} />;

  return (
    <main>
      <PageSection>
        <Title headingLevel="h1">Log in to Berth</Title>
      </PageSection>
      <PageSection>
        <Form onSubmit={(e) => void submit(e)} maxWidth="28rem">
          {failure && <Alert variant="danger" isInline title={failure.message} />}
          <FormGroup label="User" isRequired fieldId="login-user">
            <TextInput
              id="login-user"
              name="user"
              autoComplete="username"
              value={user}
              onChange={(_, v) => setUser(v)}
            />
            {field('user')}
          </FormGroup>
          <FormGroup label="Password" isRequired fieldId="login-password">
            <TextInput
              id="login-password"
              name="password"
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={(_, v) => setPassword(v)}
            />
            {field('password')}
          </FormGroup>
          <FormGroup label="Project" isRequired fieldId="login-project">
            <TextInput id="login-project" name="project" value={project} onChange={(_, v) => setProject(v)} />
            {field('project')}
          </FormGroup>
          <ActionGroup>
            <Button type="submit" variant="primary" isLoading={busy} isDisabled={busy}>
              Log in
            </Button>
          </ActionGroup>
        </Form>
      </PageSection>
    </main>
  );
}
