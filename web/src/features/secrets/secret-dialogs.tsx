import { Badge, Button, Code, Group, Modal, Stack, Table, Text, Textarea, TextInput } from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { parseDotenv } from '@cli-lib/dotenv';
import { api, unwrap } from '../../api/client';
import { ErrorAlert } from '../../components/error-alert';

export interface EnvRef {
  org: string;
  project: string;
  env: string;
}

const path = (ref: EnvRef) => ({ orgSlug: ref.org, project: ref.project, env: ref.env });

/** Add a secret, or edit one (a new version): key, value, description. */
export function SecretEditor({
  envRef,
  initial,
  onClose,
  onSaved,
}: {
  envRef: EnvRef;
  initial?: { key: string; value: string; description: string | null };
  onClose: () => void;
  onSaved: () => void;
}) {
  const [key, setKey] = useState(initial?.key ?? '');
  const [value, setValue] = useState(initial?.value ?? '');
  const [description, setDescription] = useState(initial?.description ?? '');
  const save = useMutation({
    mutationFn: () => unwrap(api.PUT('/v1/secrets/{orgSlug}/{project}/{env}', { params: { path: path(envRef) }, body: { key, value, description } })),
    onSuccess: () => {
      setValue('');
      onSaved();
    },
  });
  return (
    <Modal opened onClose={onClose} title={initial ? `Edit ${initial.key}` : 'Add a secret'} size="lg">
      <form
        onSubmit={(e) => {
          e.preventDefault();
          save.mutate();
        }}
      >
        <Stack>
          <ErrorAlert error={save.error} />
          <TextInput label="Key" required disabled={!!initial} value={key} onChange={(e) => setKey(e.currentTarget.value)} />
          <Textarea
            label="Value"
            required
            autosize
            minRows={1}
            maxRows={8}
            spellCheck={false}
            autoComplete="off"
            value={value}
            onChange={(e) => setValue(e.currentTarget.value)}
          />
          <TextInput label="Description" value={description} onChange={(e) => setDescription(e.currentTarget.value)} />
          <Group justify="end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={save.isPending}>
              Save
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}

/** Paste a .env block: every key is set in one atomic bulk write. */
export function BulkPaste({ envRef, onClose, onSaved }: { envRef: EnvRef; onClose: () => void; onSaved: () => void }) {
  const [text, setText] = useState('');
  const parsed = (() => {
    try {
      return { entries: parseDotenv(text), error: null };
    } catch (error) {
      return { entries: [], error: error as Error };
    }
  })();
  const save = useMutation({
    mutationFn: () =>
      unwrap(
        api.POST('/v1/secrets/{orgSlug}/{project}/{env}/bulk', {
          params: { path: path(envRef) },
          body: { secrets: parsed.entries.map(({ key, value }) => ({ key, value })) },
        }),
      ),
    onSuccess: () => {
      setText('');
      onSaved();
    },
  });
  return (
    <Modal opened onClose={onClose} title="Paste a .env block" size="lg">
      <Stack>
        <ErrorAlert error={save.error} />
        <Textarea
          label=".env"
          autosize
          minRows={6}
          maxRows={20}
          spellCheck={false}
          autoComplete="off"
          value={text}
          onChange={(e) => setText(e.currentTarget.value)}
        />
        {parsed.error ? (
          <Text c="red">{parsed.error.message}</Text>
        ) : (
          <Text size="sm">
            {parsed.entries.length} key(s): {parsed.entries.map((e) => e.key).join(', ')}
          </Text>
        )}
        <Group justify="end">
          <Button variant="default" onClick={onClose}>
            Cancel
          </Button>
          <Button onClick={() => save.mutate()} disabled={!!parsed.error || parsed.entries.length === 0} loading={save.isPending}>
            Import {parsed.entries.length} key(s)
          </Button>
        </Group>
      </Stack>
    </Modal>
  );
}

/** Every version of a key: who, when, how; a value shown only on demand; rollback to any older one. */
export function SecretHistory({
  envRef,
  secretKey,
  canWrite,
  onClose,
  onRolledBack,
}: {
  envRef: EnvRef;
  secretKey: string;
  canWrite: boolean;
  onClose: () => void;
  onRolledBack: () => void;
}) {
  const [shown, setShown] = useState<number | null>(null);
  const history = useQuery({
    queryKey: ['secret-history', envRef, secretKey],
    queryFn: () => unwrap(api.GET('/v1/secrets/{orgSlug}/{project}/{env}/versions/{key}', { params: { path: { ...path(envRef), key: secretKey } } })),
    // It carries values: kept by no cache once the dialog closes.
    gcTime: 0,
    staleTime: 0,
  });
  const rollback = useMutation({
    mutationFn: (version: number) =>
      unwrap(api.POST('/v1/secrets/{orgSlug}/{project}/{env}/rollback', { params: { path: path(envRef) }, body: { key: secretKey, version } })),
    onSuccess: () => {
      void history.refetch();
      onRolledBack();
    },
  });
  const current = history.data?.versions[0]?.version;
  return (
    <Modal opened onClose={onClose} title={`History of ${secretKey}`} size="xl">
      <Stack>
        <ErrorAlert error={history.error ?? rollback.error} />
        {rollback.isSuccess ? (
          <Text role="status">
            Rolled back: version {rollback.data.version} carries the value of version {rollback.data.restoredFrom}.
          </Text>
        ) : null}
        <Table>
          <Table.Thead>
            <Table.Tr>
              <Table.Th>Version</Table.Th>
              <Table.Th>Value</Table.Th>
              <Table.Th>How</Table.Th>
              <Table.Th>Who</Table.Th>
              <Table.Th>When</Table.Th>
              <Table.Th />
            </Table.Tr>
          </Table.Thead>
          <Table.Tbody>
            {history.data?.versions.map((v) => (
              <Table.Tr key={v.version}>
                <Table.Td>
                  v{v.version} {v.version === current ? <Badge size="xs">current</Badge> : null}
                </Table.Td>
                <Table.Td>
                  {shown === v.version ? (
                    <Code>{v.value}</Code>
                  ) : (
                    <Button size="compact-xs" variant="subtle" onClick={() => setShown(v.version)} aria-label={`Show value of version ${v.version}`}>
                      Show
                    </Button>
                  )}
                </Table.Td>
                <Table.Td>{v.source}</Table.Td>
                <Table.Td>{v.createdBy?.email ?? '—'}</Table.Td>
                <Table.Td>{new Date(v.createdAt).toLocaleString()}</Table.Td>
                <Table.Td>
                  {canWrite && v.version !== current ? (
                    <Button
                      size="compact-xs"
                      onClick={() => rollback.mutate(v.version)}
                      loading={rollback.isPending}
                      aria-label={`Roll back to version ${v.version}`}
                    >
                      Roll back
                    </Button>
                  ) : null}
                </Table.Td>
              </Table.Tr>
            ))}
          </Table.Tbody>
        </Table>
      </Stack>
    </Modal>
  );
}
