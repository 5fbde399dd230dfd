import { Alert, Button, Group, Paper, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { accountKeys } from '../../api/keys';
import { ErrorAlert } from '../../components/error-alert';
import { MutationForm } from '../../components/mutation-form';
import { can, Permission } from '../../components/permissions';
import { useMe, useOrg } from '../../components/session';
import { Link, navigate } from '../../router';

export function OrgsPage() {
  const me = useMe().data;
  const client = useQueryClient();
  const [name, setName] = useState('');
  const create = useMutation({
    mutationFn: () => unwrap(api.POST('/v1/orgs', { body: { name } })),
    onSuccess: async (org) => {
      setName('');
      await client.invalidateQueries({ queryKey: accountKeys.me });
      navigate(`/orgs/${org.slug}`);
    },
  });
  return (
    <Stack>
      <Title order={2}>Organizations</Title>
      <Table striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Slug</Table.Th>
            <Table.Th>Your role</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {me?.orgs.map((o) => (
            <Table.Tr key={o.id}>
              <Table.Td>
                <Link to={`/orgs/${o.slug}`}>{o.name}</Link>
              </Table.Td>
              <Table.Td>{o.slug}</Table.Td>
              <Table.Td>{o.role}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Paper withBorder p="md" maw={480}>
        <MutationForm mutation={create} submit="Create organization">
          <TextInput label="New organization name" required value={name} onChange={(e) => setName(e.currentTarget.value)} />
        </MutationForm>
      </Paper>
    </Stack>
  );
}

export function OrgSettingsPage({ org: slug }: { org: string }) {
  const org = useOrg(slug);
  const client = useQueryClient();
  const [confirm, setConfirm] = useState('');
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE('/v1/orgs/{orgId}', { params: { path: { orgId: org!.id } } })),
    onSuccess: async () => {
      await client.invalidateQueries({ queryKey: accountKeys.me });
      navigate('/orgs', { replace: true });
    },
  });
  if (!org) return null;
  return (
    <Stack maw={560}>
      <Title order={2}>{org.name}: settings</Title>
      <Text>
        Slug <code>{org.slug}</code>, your role: {org.role}.
      </Text>
      {can(org.role, Permission.OrgDelete) ? (
        <Paper withBorder p="md">
          <Stack>
            <Title order={4}>Delete this organization</Title>
            <Text size="sm">Deletes every project, secret, member and token of the organization. Type its slug to confirm.</Text>
            <ErrorAlert error={remove.error} />
            <Group>
              <TextInput aria-label="Slug to confirm" value={confirm} onChange={(e) => setConfirm(e.currentTarget.value)} />
              <Button color="red" disabled={confirm !== org.slug} onClick={() => remove.mutate()} loading={remove.isPending}>
                Delete organization
              </Button>
            </Group>
          </Stack>
        </Paper>
      ) : (
        <Alert color="gray">Only an owner can delete the organization.</Alert>
      )}
    </Stack>
  );
}
