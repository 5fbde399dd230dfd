import { Alert, Button, Group, Stack, Table, Text, TextInput } from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { ErrorAlert } from '../../components/error-alert';
import { useMe } from '../../components/session';
import { useLocation } from '../../router';
import { AuthCard, SignInForm } from '../auth/auth-forms';

/** /cli-login?code=…: which machine asks to sign in as you (host name, address, time, code); approve or deny. */
export function CliLoginPage() {
  const me = useMe();
  const fromUrl = useLocation().search.get('code') ?? '';
  const [typed, setTyped] = useState('');
  const code = (fromUrl || typed).trim().toUpperCase();
  const request = useQuery({
    queryKey: ['cli-login', code],
    queryFn: () => unwrap(api.GET('/v1/auth/cli-auth/{userCode}', { params: { path: { userCode: code } } })),
    enabled: !!me.data && /^[A-Z]{4}-?[A-Z]{4}$/.test(code),
    retry: false,
  });
  const decide = useMutation({
    mutationFn: (approve: boolean) => unwrap(api.POST('/v1/auth/cli-auth', { body: { userCode: code, approve } })),
  });
  if (me.isPending) return null;
  if (!me.data) {
    return (
      <AuthCard title="Sign in to approve the CLI">
        <SignInForm />
      </AuthCard>
    );
  }
  return (
    <AuthCard title="Sign in the secr CLI">
      <Stack>
        {!fromUrl ? <TextInput label="Code shown by the CLI" placeholder="BCDF-GHJK" value={typed} onChange={(e) => setTyped(e.currentTarget.value)} /> : null}
        <ErrorAlert error={request.error ?? decide.error} />
        {decide.data ? (
          <Alert color={decide.data.status === 'approved' ? 'green' : 'gray'} role="status" title={decide.data.status === 'approved' ? 'Approved' : 'Denied'}>
            {decide.data.status === 'approved' ? 'The CLI is signed in as you; you can close this page.' : 'The CLI received nothing.'}
          </Alert>
        ) : request.data ? (
          <>
            <Text>A command line asks to sign in as {me.data.user.email}. Approve only if you started it and the code matches the one in your terminal.</Text>
            <Table>
              <Table.Tbody>
                <Table.Tr>
                  <Table.Th>Code</Table.Th>
                  <Table.Td aria-label="Code">{request.data.userCode}</Table.Td>
                </Table.Tr>
                <Table.Tr>
                  <Table.Th>Machine</Table.Th>
                  <Table.Td aria-label="Machine">{request.data.hostname}</Table.Td>
                </Table.Tr>
                <Table.Tr>
                  <Table.Th>From address</Table.Th>
                  <Table.Td>{request.data.ip}</Table.Td>
                </Table.Tr>
                <Table.Tr>
                  <Table.Th>Asked at</Table.Th>
                  <Table.Td>{new Date(request.data.createdAt).toLocaleString()}</Table.Td>
                </Table.Tr>
                <Table.Tr>
                  <Table.Th>Expires</Table.Th>
                  <Table.Td>{new Date(request.data.expiresAt).toLocaleTimeString()}</Table.Td>
                </Table.Tr>
              </Table.Tbody>
            </Table>
            <Group>
              <Button color="green" onClick={() => decide.mutate(true)} loading={decide.isPending && decide.variables}>
                Approve
              </Button>
              <Button color="red" variant="light" onClick={() => decide.mutate(false)} loading={decide.isPending && !decide.variables}>
                Deny
              </Button>
            </Group>
          </>
        ) : null}
      </Stack>
    </AuthCard>
  );
}
