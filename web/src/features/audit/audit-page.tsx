import { Code, Group, Select, Stack, Table, TextInput, Title } from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { auditKeys, memberKeys, projectKeys } from '../../api/keys';
import { ErrorAlert } from '../../components/error-alert';
import { Pager } from '../../components/pager';
import { useOrg } from '../../components/session';

const PAGE = 50;

interface Filters {
  action: string;
  actor: string | null;
  project: string | null;
  key: string;
  from: string;
  to: string;
}

/** The filters as the API takes them (`GET /v1/audit/:orgId`), each served by an index there. */
function auditQuery(f: Filters, action: string) {
  return {
    ...(action ? { action } : {}),
    ...(f.actor ? { actor: f.actor } : {}),
    ...(f.project ? { projectId: f.project } : {}),
    ...(f.key ? { key: f.key } : {}),
    ...(f.from ? { from: new Date(f.from).toISOString() } : {}),
    ...(f.to ? { to: new Date(f.to).toISOString() } : {}),
  };
}

export function AuditPage({ org: orgSlug }: { org: string }) {
  const org = useOrg(orgSlug);
  const orgId = org?.id ?? '';
  const [filters, setFilters] = useState<Filters>({ action: '', actor: null, project: null, key: '', from: '', to: '' });
  const [offset, setOffset] = useState(0);
  const set = (patch: Partial<Filters>) => {
    setFilters({ ...filters, ...patch });
    setOffset(0);
  };
  const action = /^[a-z_]+\.[a-z_]+$/.test(filters.action) ? filters.action : '';
  const query = auditQuery(filters, action);
  const page = useQuery({
    queryKey: auditKeys.page(orgId, query, offset),
    queryFn: () => unwrap(api.GET('/v1/audit/{orgId}', { params: { path: { orgId }, query: { limit: PAGE, offset, ...query } } })),
    enabled: !!org,
    placeholderData: keepPreviousData,
  });
  const members = useQuery({
    queryKey: memberKeys.all(orgId),
    queryFn: () => unwrap(api.GET('/v1/members/{orgId}', { params: { path: { orgId } } })),
    enabled: !!org,
  });
  const projects = useQuery({
    queryKey: projectKeys.all(orgId),
    queryFn: () => unwrap(api.GET('/v1/projects/{orgId}', { params: { path: { orgId } } })),
    enabled: !!org,
  });
  if (!org) return null;
  const events = page.data?.events ?? [];
  return (
    <Stack>
      <Title order={2}>{org.name}: audit log</Title>
      <ErrorAlert error={page.error} />
      <Group align="end">
        <TextInput
          label="Action"
          placeholder="secret.read"
          w={180}
          value={filters.action}
          error={filters.action && !action ? 'like secret.read' : undefined}
          onChange={(e) => set({ action: e.currentTarget.value.trim() })}
        />
        <Select
          label="Actor"
          placeholder="Anyone"
          clearable
          searchable
          w={240}
          data={(members.data?.members ?? []).map((m) => ({ value: m.userId, label: m.email }))}
          value={filters.actor}
          onChange={(actor) => set({ actor })}
        />
        <Select
          label="Project"
          placeholder="Any"
          clearable
          w={180}
          data={(projects.data?.projects ?? []).map((p) => ({ value: p.id, label: p.name }))}
          value={filters.project}
          onChange={(project) => set({ project })}
        />
        <TextInput label="Key" placeholder="DATABASE_URL" w={180} value={filters.key} onChange={(e) => set({ key: e.currentTarget.value.trim() })} />
        <TextInput label="From" type="datetime-local" value={filters.from} onChange={(e) => set({ from: e.currentTarget.value })} />
        <TextInput label="To" type="datetime-local" value={filters.to} onChange={(e) => set({ to: e.currentTarget.value })} />
      </Group>
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
                <Code style={{ wordBreak: 'break-all' }}>{JSON.stringify(e.metadata)}</Code>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Pager page={page.data?.pagination} onOffset={setOffset} noun="events" />
    </Stack>
  );
}
