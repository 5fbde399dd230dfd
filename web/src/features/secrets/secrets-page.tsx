import { Alert, Button, Checkbox, Code, CopyButton, Group, Pagination, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { projectKeys, secretKeys } from '../../api/keys';
import { ErrorAlert } from '../../components/error-alert';
import { can, canReadTier, Permission } from '../../components/permissions';
import { useOrg } from '../../components/session';
import { Link } from '../../router';
import { TierBadge, useProject } from '../projects/projects-pages';
import { BulkPaste, SecretEditor, SecretHistory, type EnvRef } from './secret-dialogs';
import { useRevealedValues } from './use-revealed-values';

const PAGE_SIZE = 50;

type Dialog =
  { kind: 'add' } | { kind: 'edit'; key: string; value: string; description: string | null } | { kind: 'history'; key: string } | { kind: 'paste' } | null;

/** The secrets of one environment: keys paged by the server, values hidden until revealed. */
export function SecretsPage({ org: orgSlug, project: projectSlug, env }: { org: string; project: string; env: string }) {
  // A new environment is a new page: its revealed values start empty.
  return <SecretsTable key={`${orgSlug}/${projectSlug}/${env}`} envRef={{ org: orgSlug, project: projectSlug, env }} />;
}

function SecretsTable({ envRef }: { envRef: EnvRef }) {
  const org = useOrg(envRef.org);
  const project = useProject(org?.id, envRef.project);
  const client = useQueryClient();
  const [search, setSearch] = useState('');
  const [page, setPage] = useState(1);
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [dialog, setDialog] = useState<Dialog>(null);
  const revealed = useRevealedValues();
  const path = { orgSlug: envRef.org, project: envRef.project, env: envRef.env };

  const keys = useQuery({
    queryKey: secretKeys.list(envRef.org, envRef.project, envRef.env, search, page),
    queryFn: () =>
      unwrap(
        api.GET('/v1/secrets/{orgSlug}/{project}/{env}/keys', {
          params: { path, query: { limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE, ...(search ? { search } : {}) } },
        }),
      ),
    placeholderData: keepPreviousData,
  });
  const refresh = () => {
    setSelected(new Set());
    void client.invalidateQueries({ queryKey: secretKeys.all(envRef.org, envRef.project) });
    if (org) void client.invalidateQueries({ queryKey: projectKeys.one(org.id, envRef.project) });
  };

  // A reveal is a pull: the server audits it. One key by prefix search, or the whole page at once.
  // The page shows and edits what is stored (raw): a reference reads `${KEY}` here, not the value it leads to.
  // gcTime 0 (also the client's default for mutations): the values leave the mutation cache when the page
  // unmounts, as useRevealedValues promises; they are kept in the page's state only.
  const reveal = useMutation({
    gcTime: 0,
    mutationFn: async (key: string | null) => {
      const query = { raw: 'true' as const, ...(key ? { search: key } : { limit: PAGE_SIZE, offset: (page - 1) * PAGE_SIZE, ...(search ? { search } : {}) }) };
      const pulled = await unwrap(api.GET('/v1/secrets/{orgSlug}/{project}/{env}', { params: { path, query } }));
      return key ? pulled.secrets.filter((s) => s.key === key) : pulled.secrets;
    },
    onSuccess: (secrets) => revealed.add(secrets),
  });
  const edit = useMutation({
    gcTime: 0,
    mutationFn: async (key: string) => {
      const pulled = await unwrap(api.GET('/v1/secrets/{orgSlug}/{project}/{env}', { params: { path, query: { search: key, raw: 'true' } } }));
      const secret = pulled.secrets.find((s) => s.key === key);
      if (!secret) throw new Error(`${key} no longer exists`);
      return secret;
    },
    onSuccess: (secret) => setDialog({ kind: 'edit', key: secret.key, value: secret.value, description: secret.description }),
  });
  const remove = useMutation({
    mutationFn: (key: string) => unwrap(api.DELETE('/v1/secrets/{orgSlug}/{project}/{env}/{key}', { params: { path: { ...path, key } } })),
    onSuccess: (_r, key) => {
      revealed.hide(key);
      refresh();
    },
  });
  const bulkDelete = useMutation({
    mutationFn: () => unwrap(api.POST('/v1/secrets/{orgSlug}/{project}/{env}/bulk-delete', { params: { path }, body: { keys: [...selected] } })),
    onSuccess: () => {
      revealed.clear();
      refresh();
    },
  });

  if (!org) return null;
  const environment = project.data?.environments.find((e) => e.slug === envRef.env);
  if (environment && !canReadTier(org.role, environment.tier)) {
    return (
      <Alert color="yellow" title="Not allowed">
        A {org.role} cannot read {environment.tier}-tier environments.
      </Alert>
    );
  }
  const canWrite = can(org.role, Permission.SecretsWrite);
  const canBulkDelete = can(org.role, Permission.SecretsBulkDelete);
  const rows = keys.data?.keys ?? [];
  const total = keys.data?.pagination?.total ?? rows.length;
  const toggle = (key: string) =>
    setSelected((old) => {
      const next = new Set(old);
      if (!next.delete(key)) next.add(key);
      return next;
    });

  return (
    <Stack>
      <Group justify="space-between">
        <Group>
          <Title order={2}>
            <Link to={`/orgs/${envRef.org}/projects/${envRef.project}`}>{project.data?.name ?? envRef.project}</Link> / {environment?.name ?? envRef.env}
          </Title>
          {environment ? <TierBadge tier={environment.tier} /> : null}
        </Group>
        <Group>
          {canWrite ? (
            <>
              <Button onClick={() => setDialog({ kind: 'add' })}>Add secret</Button>
              <Button variant="light" onClick={() => setDialog({ kind: 'paste' })}>
                Paste .env
              </Button>
            </>
          ) : null}
        </Group>
      </Group>
      <ErrorAlert error={keys.error ?? reveal.error ?? edit.error ?? remove.error ?? bulkDelete.error} />
      <Group>
        <TextInput
          aria-label="Search keys"
          placeholder="Key prefix (case-sensitive)"
          value={search}
          onChange={(e) => {
            setSearch(e.currentTarget.value);
            setPage(1);
          }}
        />
        <Button variant="default" onClick={() => reveal.mutate(null)} loading={reveal.isPending && reveal.variables === null}>
          Reveal all
        </Button>
        <Button variant="default" onClick={revealed.clear} disabled={revealed.values.size === 0}>
          Hide all
        </Button>
        {canBulkDelete ? (
          <Button
            color="red"
            variant="light"
            disabled={selected.size === 0}
            onClick={() => window.confirm(`Delete ${selected.size} secret(s)?`) && bulkDelete.mutate()}
          >
            Delete selected ({selected.size})
          </Button>
        ) : null}
        <Text size="sm" c="dimmed">
          {total} secret(s)
        </Text>
      </Group>
      <Table striped highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            {canBulkDelete ? <Table.Th w={32} /> : null}
            <Table.Th>Key</Table.Th>
            <Table.Th>Value</Table.Th>
            <Table.Th>Description</Table.Th>
            <Table.Th>Version</Table.Th>
            <Table.Th>Updated</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {rows.map((s) => {
            const value = revealed.values.get(s.key);
            return (
              <Table.Tr key={s.key}>
                {canBulkDelete ? (
                  <Table.Td>
                    <Checkbox aria-label={`Select ${s.key}`} checked={selected.has(s.key)} onChange={() => toggle(s.key)} />
                  </Table.Td>
                ) : null}
                <Table.Td>
                  <Code>{s.key}</Code>
                </Table.Td>
                <Table.Td aria-label={`Value of ${s.key}`}>
                  {value === undefined ? (
                    <Button size="compact-xs" variant="subtle" onClick={() => reveal.mutate(s.key)} aria-label={`Reveal ${s.key}`}>
                      ••••••••
                    </Button>
                  ) : (
                    <Group gap={4} wrap="nowrap">
                      <Code>{value}</Code>
                      <CopyButton value={value}>
                        {({ copied, copy }) => (
                          <Button size="compact-xs" variant="subtle" onClick={copy} aria-label={`Copy ${s.key}`}>
                            {copied ? 'Copied' : 'Copy'}
                          </Button>
                        )}
                      </CopyButton>
                      <Button size="compact-xs" variant="subtle" onClick={() => revealed.hide(s.key)} aria-label={`Hide ${s.key}`}>
                        Hide
                      </Button>
                    </Group>
                  )}
                </Table.Td>
                <Table.Td>{s.description}</Table.Td>
                <Table.Td>v{s.version}</Table.Td>
                <Table.Td>{new Date(s.updatedAt).toLocaleString()}</Table.Td>
                <Table.Td>
                  <Group gap={4} wrap="nowrap">
                    <Button size="compact-xs" variant="subtle" onClick={() => setDialog({ kind: 'history', key: s.key })} aria-label={`History of ${s.key}`}>
                      History
                    </Button>
                    {canWrite ? (
                      <>
                        <Button size="compact-xs" variant="subtle" onClick={() => edit.mutate(s.key)} aria-label={`Edit ${s.key}`}>
                          Edit
                        </Button>
                        <Button
                          size="compact-xs"
                          variant="subtle"
                          color="red"
                          onClick={() => window.confirm(`Delete ${s.key}?`) && remove.mutate(s.key)}
                          aria-label={`Delete ${s.key}`}
                        >
                          Delete
                        </Button>
                      </>
                    ) : null}
                  </Group>
                </Table.Td>
              </Table.Tr>
            );
          })}
        </Table.Tbody>
      </Table>
      {total > PAGE_SIZE ? <Pagination total={Math.ceil(total / PAGE_SIZE)} value={page} onChange={setPage} /> : null}
      {dialog?.kind === 'add' ? <SecretEditor envRef={envRef} onClose={() => setDialog(null)} onSaved={() => (setDialog(null), refresh())} /> : null}
      {dialog?.kind === 'edit' ? (
        <SecretEditor
          envRef={envRef}
          initial={dialog}
          onClose={() => setDialog(null)}
          onSaved={() => {
            revealed.hide(dialog.key);
            setDialog(null);
            refresh();
          }}
        />
      ) : null}
      {dialog?.kind === 'paste' ? <BulkPaste envRef={envRef} onClose={() => setDialog(null)} onSaved={() => (setDialog(null), refresh())} /> : null}
      {dialog?.kind === 'history' ? (
        <SecretHistory
          envRef={envRef}
          secretKey={dialog.key}
          canWrite={canWrite}
          onClose={() => setDialog(null)}
          onRolledBack={() => {
            revealed.hide(dialog.key);
            refresh();
          }}
        />
      ) : null}
    </Stack>
  );
}
