import { Alert, Button, Code, Group, Paper, PasswordInput, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { accountKeys } from '../../api/keys';
import { ErrorAlert } from '../../components/error-alert';
import { useMe } from '../../components/session';

export function AccountPage() {
  const me = useMe().data;
  const sendVerification = useMutation({ mutationFn: () => unwrap(api.POST('/v1/auth/send-verification')) });
  if (!me) return null;
  return (
    <Stack maw={860}>
      <Title order={2}>Your account</Title>
      <Text>
        {me.user.name} · {me.user.email} · {me.user.emailVerified ? 'address verified' : 'address not verified'}
      </Text>
      {!me.user.emailVerified ? (
        <Group>
          <Button size="xs" variant="light" onClick={() => sendVerification.mutate()} loading={sendVerification.isPending}>
            Mail me a verification link
          </Button>
          {sendVerification.isSuccess ? <Text size="sm">Sent.</Text> : null}
          <ErrorAlert error={sendVerification.error} />
        </Group>
      ) : null}
      <ChangePassword />
      <Tokens />
    </Stack>
  );
}

function ChangePassword() {
  const [currentPassword, setCurrent] = useState('');
  const [newPassword, setNew] = useState('');
  const change = useMutation({
    mutationFn: () => unwrap(api.POST('/v1/auth/change-password', { body: { currentPassword, newPassword } })),
    onSuccess: () => {
      setCurrent('');
      setNew('');
    },
  });
  return (
    <Paper withBorder p="md">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          change.mutate();
        }}
      >
        <Stack>
          <Title order={4}>Change password</Title>
          <ErrorAlert error={change.error} />
          {change.isSuccess ? <Text role="status">Password changed; your other sessions are ended.</Text> : null}
          <Group align="end">
            <PasswordInput
              label="Current password"
              autoComplete="current-password"
              required
              value={currentPassword}
              onChange={(e) => setCurrent(e.currentTarget.value)}
            />
            <PasswordInput label="New password" autoComplete="new-password" required value={newPassword} onChange={(e) => setNew(e.currentTarget.value)} />
            <Button type="submit" loading={change.isPending}>
              Change password
            </Button>
          </Group>
        </Stack>
      </form>
    </Paper>
  );
}

function Tokens() {
  const me = useMe().data;
  const client = useQueryClient();
  const [name, setName] = useState('');
  const [access, setAccess] = useState<'read' | 'read_write'>('read');
  const [orgId, setOrgId] = useState<string | null>(null);
  const [days, setDays] = useState('90');
  const tokens = useQuery({ queryKey: accountKeys.tokens, queryFn: () => unwrap(api.GET('/v1/auth/tokens')) });
  const create = useMutation({
    mutationFn: () => unwrap(api.POST('/v1/auth/token', { body: { name, access, expiresInDays: Number(days), ...(orgId ? { orgId } : {}) } })),
    onSuccess: () => {
      setName('');
      void client.invalidateQueries({ queryKey: accountKeys.tokens });
    },
  });
  const revoke = useMutation({
    mutationFn: (tokenId: string) => unwrap(api.DELETE('/v1/auth/tokens/{tokenId}', { params: { path: { tokenId } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: accountKeys.tokens }),
  });
  return (
    <Paper withBorder p="md">
      <Stack>
        <Title order={4}>API and CLI tokens</Title>
        <ErrorAlert error={tokens.error ?? revoke.error} />
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Name</Table.Th>
              <Table.Th>Token</Table.Th>
              <Table.Th>Access</Table.Th>
              <Table.Th>Expires</Table.Th>
              <Table.Th>Last used</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {tokens.data?.tokens.map((t) => (
              <Table.Tr key={t.id}>
                <Table.Td>{t.name}</Table.Td>
                <Table.Td>
                  <Code>{t.hint}</Code>
                </Table.Td>
                <Table.Td>{t.access}</Table.Td>
                <Table.Td>{new Date(t.expiresAt).toLocaleDateString()}</Table.Td>
                <Table.Td>{t.lastUsedAt ? new Date(t.lastUsedAt).toLocaleString() : 'never'}</Table.Td>
                <Table.Td>
                  <Button size="compact-xs" color="red" variant="subtle" onClick={() => revoke.mutate(t.id)}>
                    Revoke
                  </Button>
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
        <form
          onSubmit={(e) => {
            e.preventDefault();
            create.mutate();
          }}
        >
          <Stack>
            <ErrorAlert error={create.error} />
            <Group align="end">
              <TextInput label="Token name" required value={name} onChange={(e) => setName(e.currentTarget.value)} />
              <Select
                label="Organization"
                placeholder="All"
                clearable
                data={(me?.orgs ?? []).map((o) => ({ value: o.id, label: o.name }))}
                value={orgId}
                onChange={setOrgId}
              />
              <Select
                label="Access"
                w={130}
                data={['read', 'read_write']}
                value={access}
                allowDeselect={false}
                onChange={(v) => v && setAccess(v as 'read' | 'read_write')}
              />
              <TextInput label="Days" w={80} value={days} onChange={(e) => setDays(e.currentTarget.value)} />
              <Button type="submit" loading={create.isPending}>
                Create token
              </Button>
            </Group>
          </Stack>
        </form>
        {create.data ? (
          <Alert color="green" title="Token created: copy it now, it is shown only once">
            <Code aria-label="New token">{create.data.token}</Code>
          </Alert>
        ) : null}
      </Stack>
    </Paper>
  );
}
