import { Anchor, Button, Paper, PasswordInput, Stack, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { api, ApiError, unwrap } from '../../api/client';
import { accountKeys } from '../../api/keys';
import { ErrorAlert } from '../../components/error-alert';
import { MutationForm } from '../../components/mutation-form';
import { Link, navigate, takeFragmentToken } from '../../router';

export function AuthCard({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <Paper withBorder p="lg" maw={420} mx="auto" mt="xl">
      <Title order={2} mb="md">
        {title}
      </Title>
      {children}
    </Paper>
  );
}

/** Sign in; on success the session cookie (HttpOnly) is set and `me` is fetched again. */
export function SignInForm({ onSignedIn }: { onSignedIn?: () => void }) {
  const client = useQueryClient();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const signIn = useMutation({
    mutationFn: () => unwrap(api.POST('/v1/auth/login', { body: { email, password } })),
    onSuccess: async () => {
      setPassword('');
      await client.resetQueries();
      await client.refetchQueries({ queryKey: accountKeys.me });
      onSignedIn?.();
    },
  });
  const wait = useRetryWait(signIn.error);
  const submit = (e: FormEvent) => {
    e.preventDefault();
    signIn.mutate();
  };
  return (
    <form onSubmit={submit}>
      <Stack>
        <ErrorAlert error={signIn.error} />
        <TextInput label="Email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
        <PasswordInput label="Password" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.currentTarget.value)} />
        <Button type="submit" loading={signIn.isPending} disabled={wait > 0}>
          {wait > 0 ? `Sign in (wait ${wait} s)` : 'Sign in'}
        </Button>
        <Text size="sm">
          <Anchor component={Link} to="/forgot-password">
            Forgot your password?
          </Anchor>
        </Text>
      </Stack>
    </form>
  );
}

/** Seconds left of a 429's Retry-After (rate limit or lock-out), counting down; 0 when none. */
function useRetryWait(error: unknown): number {
  const [left, setLeft] = useState(0);
  useEffect(() => {
    if (!(error instanceof ApiError) || error.status !== 429 || !error.retryAfterSeconds) return setLeft(0);
    const until = Date.now() + error.retryAfterSeconds * 1000;
    const tick = () => setLeft(Math.max(0, Math.ceil((until - Date.now()) / 1000)));
    tick();
    const timer = setInterval(tick, 1000);
    return () => clearInterval(timer);
  }, [error]);
  return left;
}

export function SignUpForm({ onSignedIn }: { onSignedIn?: () => void }) {
  const client = useQueryClient();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const signUp = useMutation({
    mutationFn: async () => {
      await unwrap(api.POST('/v1/auth/register', { body: { name, email, password } }));
      // Sign-up answers alike for new and taken addresses; signing in tells them apart.
      await unwrap(api.POST('/v1/auth/login', { body: { email, password } }));
    },
    onSuccess: async () => {
      setPassword('');
      await client.resetQueries();
      await client.refetchQueries({ queryKey: accountKeys.me });
      onSignedIn?.();
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    signUp.mutate();
  };
  return (
    <form onSubmit={submit}>
      <Stack>
        <ErrorAlert error={signUp.error} />
        <TextInput label="Name" required value={name} onChange={(e) => setName(e.currentTarget.value)} />
        <TextInput label="Email" type="email" autoComplete="username" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
        <PasswordInput
          label="Password"
          description="At least 10 characters; a passphrase is best"
          autoComplete="new-password"
          required
          value={password}
          onChange={(e) => setPassword(e.currentTarget.value)}
        />
        <Button type="submit" loading={signUp.isPending}>
          Create account
        </Button>
      </Stack>
    </form>
  );
}

export function SignInPage() {
  return (
    <AuthCard title="Sign in to secr">
      <SignInForm onSignedIn={() => navigate('/', { replace: true })} />
      <Text size="sm" mt="md">
        No account?{' '}
        <Anchor component={Link} to="/sign-up">
          Create one
        </Anchor>
      </Text>
    </AuthCard>
  );
}

export function SignUpPage() {
  return (
    <AuthCard title="Create your secr account">
      <SignUpForm onSignedIn={() => navigate('/', { replace: true })} />
      <Text size="sm" mt="md">
        Have an account?{' '}
        <Anchor component={Link} to="/sign-in">
          Sign in
        </Anchor>
      </Text>
    </AuthCard>
  );
}

export function ForgotPasswordPage() {
  const [email, setEmail] = useState('');
  const request = useMutation({ mutationFn: () => unwrap(api.POST('/v1/auth/forgot-password', { body: { email } })) });
  return (
    <AuthCard title="Reset your password">
      <MutationForm mutation={request} submit="Mail me a link">
        {request.isSuccess ? <Text role="status">{request.data.message}</Text> : null}
        <TextInput label="Email" type="email" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
      </MutationForm>
    </AuthCard>
  );
}

const fragmentTokens = new Map<string, string | null>();
/** The token of a mailed link, read once per page load (the address bar loses it at once). */
function useLinkToken(): string | null {
  const path = location.pathname;
  if (!fragmentTokens.has(path)) fragmentTokens.set(path, takeFragmentToken());
  return fragmentTokens.get(path) ?? null;
}

export function ResetPasswordPage() {
  const token = useLinkToken();
  const [password, setPassword] = useState('');
  const reset = useMutation({ mutationFn: () => unwrap(api.POST('/v1/auth/reset-password', { body: { token: token ?? '', password } })) });
  if (!token) return <AuthCard title="Reset your password">This link has no token: open the link of the mail again.</AuthCard>;
  return (
    <AuthCard title="Choose a new password">
      {reset.isSuccess ? (
        <Text role="status">
          Your password is changed and every session is ended.{' '}
          <Anchor component={Link} to="/sign-in">
            Sign in
          </Anchor>
        </Text>
      ) : (
        <MutationForm mutation={reset} submit="Set password">
          <PasswordInput label="New password" autoComplete="new-password" required value={password} onChange={(e) => setPassword(e.currentTarget.value)} />
        </MutationForm>
      )}
    </AuthCard>
  );
}

export function VerifyEmailPage() {
  const token = useLinkToken();
  const client = useQueryClient();
  const verify = useMutation({
    mutationFn: () => unwrap(api.POST('/v1/auth/verify-email', { body: { token: token ?? '' } })),
    onSuccess: () => client.invalidateQueries({ queryKey: accountKeys.me }),
  });
  return (
    <AuthCard title="Verify your email address">
      <Stack>
        <ErrorAlert error={verify.error} />
        {verify.isSuccess ? (
          <Text role="status">
            Your address is verified.{' '}
            <Anchor component={Link} to="/">
              Continue
            </Anchor>
          </Text>
        ) : token ? (
          <Button onClick={() => verify.mutate()} loading={verify.isPending}>
            Confirm my address
          </Button>
        ) : (
          <Text>This link has no token: open the link of the mail again.</Text>
        )}
      </Stack>
    </AuthCard>
  );
}
