import { Code, Stack, Table, Text, Title } from '@mantine/core';
import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { activityKeys } from '../../api/keys';
import { ErrorAlert } from '../../components/error-alert';
import { Pager } from '../../components/pager';

const PAGE = 25;

/** The account's own events: sign-ins (failed ones too), password and token changes, newest first. */
export function ActivityPage() {
  const [offset, setOffset] = useState(0);
  const page = useQuery({
    queryKey: activityKeys.page(offset),
    queryFn: () => unwrap(api.GET('/v1/auth/activity', { params: { query: { limit: PAGE, offset } } })),
    placeholderData: keepPreviousData,
  });
  return (
    <Stack>
      <Title order={2}>Account activity</Title>
      <Text size="sm" c="dimmed">
        Sign-ins, failed sign-ins, password and token changes of your account. Something you do not recognise? Change your password: it ends every other
        session.
      </Text>
      <ErrorAlert error={page.error} />
      <Table striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>When</Table.Th>
            <Table.Th>Action</Table.Th>
            <Table.Th>From</Table.Th>
            <Table.Th>Client</Table.Th>
            <Table.Th>Details</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {page.data?.events.map((e) => (
            <Table.Tr key={e.id}>
              <Table.Td>{new Date(e.createdAt).toLocaleString()}</Table.Td>
              <Table.Td>{e.action}</Table.Td>
              <Table.Td>{e.ip ?? '—'}</Table.Td>
              <Table.Td>
                <Text size="xs" lineClamp={1} maw={260} title={e.userAgent ?? ''}>
                  {e.actorTokenId ? 'API/CLI token' : (e.userAgent ?? '—')}
                </Text>
              </Table.Td>
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
