import { Button, Code, Group, Stack, Table, TextInput, Title } from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { auditKeys } from '../../api/keys';
import { ErrorAlert } from '../../components/error-alert';
import { useOrg } from '../../components/session';

const PAGE = 50;

export function AuditPage({ org: orgSlug }: { org: string }) {
  const org = useOrg(orgSlug);
  const [action, setAction] = useState('');
  const [offset, setOffset] = useState(0);
  const page = useQuery({
    queryKey: auditKeys.page(org?.id ?? '', action, offset),
    queryFn: () =>
      unwrap(api.GET('/v1/audit/{orgId}', { params: { path: { orgId: org!.id }, query: { limit: PAGE, offset, ...(action ? { action } : {}) } } })),
    enabled: !!org,
    placeholderData: keepPreviousData,
  });
  if (!org) return null;
  const events = page.data?.events ?? [];
  return (
    <Stack>
      <Title order={2}>{org.name}: audit log</Title>
      <ErrorAlert error={page.error} />
      <TextInput
        label="Action"
        placeholder="secret.read"
        maw={260}
        value={action}
        onChange={(e) => {
          setAction(e.currentTarget.value);
          setOffset(0);
        }}
      />
      <Table striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>When</Table.Th>
            <Table.Th>Action</Table.Th>
            <Table.Th>Who</Table.Th>
            <Table.Th>From</Table.Th>
            <Table.Th>Details</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {events.map((e) => (
            <Table.Tr key={e.id}>
              <Table.Td>{new Date(e.createdAt).toLocaleString()}</Table.Td>
              <Table.Td>{e.action}</Table.Td>
              <Table.Td>{e.actorEmail ?? '—'}</Table.Td>
              <Table.Td>{e.ip}</Table.Td>
              <Table.Td>
                <Code>{JSON.stringify(e.metadata)}</Code>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Group>
        <Button variant="default" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
          Newer
        </Button>
        <Button variant="default" disabled={events.length < PAGE} onClick={() => setOffset(offset + PAGE)}>
          Older
        </Button>
      </Group>
    </Stack>
  );
}
