import { Alert, Button, Code, CopyButton, Group, Paper, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { accountKeys, memberKeys } from '../../api/keys';
import { ErrorAlert } from '../../components/error-alert';
import { can, Permission, type Role } from '../../components/permissions';
import { useMe, useOrg } from '../../components/session';
import { navigate, takeFragmentToken } from '../../router';
import { AuthCard, SignInForm, SignUpForm } from '../auth/auth-forms';

const ROLES: Role[] = ['owner', 'admin', 'developer', 'viewer'];

export function MembersPage({ org: orgSlug }: { org: string }) {
  const org = useOrg(orgSlug);
  const me = useMe().data;
  const client = useQueryClient();
  const [email, setEmail] = useState('');
  const [role, setRole] = useState<Role>('developer');
  const members = useQuery({
    queryKey: memberKeys.all(org?.id ?? ''),
    queryFn: () => unwrap(api.GET('/v1/members/{orgId}', { params: { path: { orgId: org!.id } } })),
    enabled: !!org,
  });
  const refresh = () => client.invalidateQueries({ queryKey: memberKeys.all(org!.id) });
  const invite = useMutation({
    mutationFn: () => unwrap(api.POST('/v1/members/{orgId}/invite', { params: { path: { orgId: org!.id } }, body: { email, role } })),
    onSuccess: () => {
      setEmail('');
      void refresh();
    },
  });
  const changeRole = useMutation({
    mutationFn: ({ id, role }: { id: string; role: Role }) =>
      unwrap(api.PATCH('/v1/members/{orgId}/{id}', { params: { path: { orgId: org!.id, id } }, body: { role } })),
    onSuccess: refresh,
  });
  const remove = useMutation({
    mutationFn: (id: string) => unwrap(api.DELETE('/v1/members/{orgId}/{id}', { params: { path: { orgId: org!.id, id } } })),
    onSuccess: refresh,
  });
  const revoke = useMutation({
    mutationFn: (inviteId: string) => unwrap(api.DELETE('/v1/members/{orgId}/invites/{inviteId}', { params: { path: { orgId: org!.id, inviteId } } })),
    onSuccess: refresh,
  });
  if (!org) return null;
  const owners = members.data?.members.filter((m) => m.role === 'owner').length ?? 0;
  return (
    <Stack>
      <Title order={2}>{org.name}: members</Title>
      <ErrorAlert error={members.error ?? changeRole.error ?? remove.error ?? revoke.error} />
      <Table striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Member</Table.Th>
            <Table.Th>Role</Table.Th>
            <Table.Th>Joined</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {members.data?.members.map((m) => {
            const lastOwner = m.role === 'owner' && owners === 1;
            return (
              <Table.Tr key={m.userId}>
                <Table.Td>
                  {m.name}{' '}
                  <Text span c="dimmed">
                    {m.email}
                  </Text>
                </Table.Td>
                <Table.Td>
                  {can(org.role, Permission.MembersChangeRole) && !lastOwner ? (
                    <Select
                      aria-label={`Role of ${m.email}`}
                      size="xs"
                      w={130}
                      data={ROLES}
                      value={m.role}
                      allowDeselect={false}
                      onChange={(r) => r && changeRole.mutate({ id: m.userId, role: r as Role })}
                    />
                  ) : (
                    <>
                      {m.role}
                      {lastOwner ? (
                        <Text span size="xs" c="dimmed">
                          {' '}
                          (the last owner: another owner is needed before this one can leave or change role)
                        </Text>
                      ) : null}
                    </>
                  )}
                </Table.Td>
                <Table.Td>{new Date(m.joinedAt).toLocaleDateString()}</Table.Td>
                <Table.Td>
                  {can(org.role, Permission.MembersRemove) && !lastOwner && m.userId !== me?.user.id ? (
                    <Button size="compact-xs" color="red" variant="subtle" onClick={() => window.confirm(`Remove ${m.email}?`) && remove.mutate(m.userId)}>
                      Remove
                    </Button>
                  ) : null}
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
      {members.data?.invites.length ? (
        <>
          <Title order={4}>Pending invitations</Title>
          <Table>
            <Table.Tbody>
              {members.data.invites.map((i) => (
                <Table.Tr key={i.id}>
                  <Table.Td>{i.email}</Table.Td>
                  <Table.Td>{i.role}</Table.Td>
                  <Table.Td>{i.expiresAt ? `expires ${new Date(i.expiresAt).toLocaleString()}` : null}</Table.Td>
                  <Table.Td>
                    {can(org.role, Permission.MembersInvite) ? (
                      <Button size="compact-xs" variant="subtle" color="red" onClick={() => revoke.mutate(i.id)}>
                        Revoke
                      </Button>
                    ) : null}
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </>
      ) : null}
      {can(org.role, Permission.MembersInvite) ? (
        <Paper withBorder p="md" maw={620}>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              invite.mutate();
            }}
          >
            <Stack>
              <Title order={4}>Invite a member</Title>
              <ErrorAlert error={invite.error} />
              <Group align="end">
                <TextInput label="Email" type="email" required value={email} onChange={(e) => setEmail(e.currentTarget.value)} />
                <Select
                  label="Role"
                  w={140}
                  data={ROLES.filter((r) => r !== 'owner' || can(org.role, Permission.MembersChangeRole))}
                  value={role}
                  allowDeselect={false}
                  onChange={(r) => r && setRole(r as Role)}
                />
                <Button type="submit" loading={invite.isPending}>
                  Invite
                </Button>
              </Group>
              {invite.data?.token ? (
                <InviteLink token={invite.data.token} email={invite.data.invite.email} />
              ) : invite.data ? (
                <Text role="status">Invitation mailed to {invite.data.invite.email}.</Text>
              ) : null}
            </Stack>
          </form>
        </Paper>
      ) : null}
    </Stack>
  );
}

/** The invitation was mailed; its link is also shown once, for sharing another way. */
function InviteLink({ token, email }: { token: string; email: string }) {
  const link = `${location.origin}/invite#token=${encodeURIComponent(token)}`;
  return (
    <Alert color="green" title={`Invitation mailed to ${email}`}>
      <Stack gap={4}>
        <Text size="sm">Its link, shown only now:</Text>
        <Group wrap="nowrap">
          <Code aria-label="Invitation link" style={{ wordBreak: 'break-all' }}>
            {link}
          </Code>
          <CopyButton value={link}>
            {({ copied, copy }) => (
              <Button size="compact-xs" onClick={copy}>
                {copied ? 'Copied' : 'Copy'}
              </Button>
            )}
          </CopyButton>
        </Group>
      </Stack>
    </Alert>
  );
}

let inviteToken: string | null | undefined;

/** /invite#token=…: sign in or up on this page (the token stays in memory), then accept. */
export function AcceptInvitePage() {
  if (inviteToken === undefined) inviteToken = takeFragmentToken();
  const me = useMe();
  const client = useQueryClient();
  const [mode, setMode] = useState<'sign-in' | 'sign-up'>('sign-up');
  const accept = useMutation({
    mutationFn: () => unwrap(api.POST('/v1/members/invite/{token}/accept', { params: { path: { token: inviteToken ?? '' } } })),
    onSuccess: async (org) => {
      inviteToken = null;
      await client.invalidateQueries({ queryKey: accountKeys.me });
      navigate(`/orgs/${org.slug}`, { replace: true });
    },
  });
  if (!inviteToken) return <AuthCard title="Invitation">This link has no invitation token: open the link of the mail again.</AuthCard>;
  if (me.isPending) return null;
  if (!me.data) {
    return (
      <AuthCard title="You are invited to an organization on secr">
        <Stack>
          <Text size="sm">{mode === 'sign-up' ? 'Create your account to accept it.' : 'Sign in to accept it.'}</Text>
          {mode === 'sign-up' ? <SignUpForm /> : <SignInForm />}
          <Button variant="subtle" onClick={() => setMode(mode === 'sign-up' ? 'sign-in' : 'sign-up')}>
            {mode === 'sign-up' ? 'I have an account: sign in' : 'I need an account: sign up'}
          </Button>
        </Stack>
      </AuthCard>
    );
  }
  return (
    <AuthCard title="Accept the invitation">
      <Stack>
        <Text>Signed in as {me.data.user.email}.</Text>
        <ErrorAlert error={accept.error} />
        <Button onClick={() => accept.mutate()} loading={accept.isPending}>
          Accept invitation
        </Button>
      </Stack>
    </AuthCard>
  );
}
