import { Code, Group, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { auditKeys, memberKeys, projectKeys } from '../../api/keys';
import { ErrorAlert } from '../../components/error-alert';
import { Pager } from '../../components/pager';
import { useOrg } from '../../components/session';

const PAGE = 50;
/** The API's largest page: with a filter the API does not offer, each page scans this many events. */
const SCAN = 500;

interface Filters {
  action: string;
  actor: string | null;
  project: string | null;
  from: string;
  to: string;
}

type AuditEvent = { createdAt: string; actorUserId: string | null; metadata: Record<string, unknown> };

/**
 * The API filters by action (`?action=`). Actor, project and time range are applied here, to the events
 * of the page (scanned 500 at a time), until the API filters them itself.
 */
function matches(f: Filters, e: AuditEvent): boolean {
  if (f.actor && e.actorUserId !== f.actor) return false;
  if (f.project && e.metadata.projectId !== f.project) return false;
  const at = new Date(e.createdAt).getTime();
  if (f.from && at < new Date(f.from).getTime()) return false;
  if (f.to && at > new Date(f.to).getTime()) return false;
  return true;
}

export function AuditPage({ org: orgSlug }: { org: string }) {
  const org = useOrg(orgSlug);
  const orgId = org?.id ?? '';
  const [filters, setFilters] = useState<Filters>({ action: '', actor: null, project: null, from: '', to: '' });
  const [offset, setOffset] = useState(0);
  const set = (patch: Partial<Filters>) => {
    setFilters({ ...filters, ...patch });
    setOffset(0);
  };
  const scanning = !!(filters.actor || filters.project || filters.from || filters.to);
  const limit = scanning ? SCAN : PAGE;
  const action = /^[a-z_]+\.[a-z_]+$/.test(filters.action) ? filters.action : '';
  const page = useQuery({
    queryKey: auditKeys.page(orgId, action, limit, offset),
    queryFn: () => unwrap(api.GET('/v1/audit/{orgId}', { params: { path: { orgId }, query: { limit, offset, ...(action ? { action } : {}) } } })),
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
  const loaded = page.data?.events ?? [];
  const events = scanning ? loaded.filter((e) => matches(filters, e)) : loaded;
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
        <TextInput label="From" type="datetime-local" value={filters.from} onChange={(e) => set({ from: e.currentTarget.value })} />
        <TextInput label="To" type="datetime-local" value={filters.to} onChange={(e) => set({ to: e.currentTarget.value })} />
      </Group>
      {scanning && page.data ? (
        <Text size="sm" c="dimmed" role="status">
          {events.length} of the {loaded.length} events on this page match the actor, project and time filters.
        </Text>
      ) : null}
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
      <Pager page={page.data?.pagination} onOffset={setOffset} noun={scanning ? 'events scanned' : 'events'} />
    </Stack>
  );
}
