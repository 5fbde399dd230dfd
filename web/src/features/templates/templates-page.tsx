import { Alert, Badge, Button, Checkbox, Group, Paper, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQueries, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { templateKeys } from '../../api/keys';
import { ErrorAlert } from '../../components/error-alert';
import { MutationForm } from '../../components/mutation-form';
import { can, canReadTier, Permission } from '../../components/permissions';
import { useOrg } from '../../components/session';
import { Link } from '../../router';
import { TierBadge, useProject } from '../projects/projects-pages';

/** A project's template (the keys every environment should set) and each readable environment checked against it. */
export function TemplatesPage({ org: orgSlug, project: slug }: { org: string; project: string }) {
  const org = useOrg(orgSlug);
  const client = useQueryClient();
  const project = useProject(org?.id, slug);
  const [key, setKey] = useState('');
  const [description, setDescription] = useState('');
  const [required, setRequired] = useState(true);
  const path = { orgSlug, project: slug };
  const templates = useQuery({
    queryKey: templateKeys.list(orgSlug, slug),
    queryFn: () => unwrap(api.GET('/v1/templates/{orgSlug}/{project}', { params: { path } })),
    enabled: !!org,
  });
  // A role sees only the environments it may read (a viewer: development tier only).
  const environments = (project.data?.environments ?? []).filter((e) => canReadTier(org?.role, e.tier));
  const validations = useQueries({
    queries: environments.map((env) => ({
      queryKey: templateKeys.validation(orgSlug, slug, env.slug),
      queryFn: () => unwrap(api.GET('/v1/templates/{orgSlug}/{project}/validate/{env}', { params: { path: { ...path, env: env.slug } } })),
    })),
  });
  const refresh = () => client.invalidateQueries({ queryKey: templateKeys.all(orgSlug, slug) });
  const add = useMutation({
    mutationFn: () =>
      unwrap(api.POST('/v1/templates/{orgSlug}/{project}', { params: { path }, body: { key, required, ...(description ? { description } : {}) } })),
    onSuccess: () => {
      setKey('');
      setDescription('');
      setRequired(true);
      return refresh();
    },
  });
  const remove = useMutation({
    mutationFn: (templateKey: string) => unwrap(api.DELETE('/v1/templates/{orgSlug}/{project}/{key}', { params: { path: { ...path, key: templateKey } } })),
    onSuccess: refresh,
  });
  if (!org) return null;
  const manage = can(org.role, Permission.TemplatesManage);
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{project.data?.name ?? slug}: template</Title>
        <Button component={Link} to={`/orgs/${orgSlug}/projects/${slug}`} variant="default">
          Back to the project
        </Button>
      </Group>
      <Text size="sm" c="dimmed">
        The keys every environment of this project should set. A required key that an environment lacks is missing; a key an environment sets that the template
        does not list is extra. Optional keys are neither.
      </Text>
      <ErrorAlert error={templates.error ?? project.error ?? remove.error} />
      <Table striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Key</Table.Th>
            <Table.Th>Description</Table.Th>
            <Table.Th>Required</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {templates.data?.templates.map((t) => (
            <Table.Tr key={t.id}>
              <Table.Td ff="monospace">{t.key}</Table.Td>
              <Table.Td>{t.description ?? ''}</Table.Td>
              <Table.Td>{t.required ? 'required' : 'optional'}</Table.Td>
              <Table.Td>
                {manage ? (
                  <Button size="compact-xs" color="red" variant="subtle" aria-label={`Remove ${t.key}`} onClick={() => remove.mutate(t.key)}>
                    Remove
                  </Button>
                ) : null}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {templates.data?.templates.length === 0 ? <Text c="dimmed">No template keys yet.</Text> : null}
      {manage ? (
        <Paper withBorder p="md" maw={720}>
          <MutationForm mutation={add} submit="Add template key">
            <Group align="end">
              <TextInput label="Template key" required value={key} onChange={(e) => setKey(e.currentTarget.value)} />
              <TextInput label="Key description" flex={1} value={description} onChange={(e) => setDescription(e.currentTarget.value)} />
              <Checkbox label="Required" checked={required} onChange={(e) => setRequired(e.currentTarget.checked)} mb={8} />
            </Group>
          </MutationForm>
        </Paper>
      ) : null}
      <Title order={3}>Environments against the template</Title>
      <SimpleGrid cols={{ base: 1, md: 3 }}>
        {environments.map((env, i) => {
          const result = validations[i];
          return (
            <Paper key={env.id} withBorder p="md" aria-label={`Validation of ${env.slug}`} role="region">
              <Stack gap="xs">
                <Group justify="space-between">
                  <Text fw={600}>{env.name}</Text>
                  <TierBadge tier={env.tier} />
                </Group>
                <ErrorAlert error={result?.error} />
                {result?.data ? (
                  <>
                    <Badge color={result.data.valid ? 'green' : 'red'} variant="light">
                      {result.data.valid ? 'valid' : `${result.data.missing.length} missing`}
                    </Badge>
                    <KeyList label="Missing" keys={result.data.missing} color="red" />
                    <KeyList label="Extra" keys={result.data.extra} color="gray" />
                  </>
                ) : null}
              </Stack>
            </Paper>
          );
        })}
      </SimpleGrid>
      {environments.length === 0 && project.data ? <Alert color="gray">Your role reads no environment of this project.</Alert> : null}
    </Stack>
  );
}

function KeyList({ label, keys, color }: { label: string; keys: string[]; color: string }) {
  return (
    <Text size="sm">
      {label}:{' '}
      {keys.length ? (
        keys.map((k) => (
          <Badge key={k} color={color} variant="outline" mr={4} tt="none">
            {k}
          </Badge>
        ))
      ) : (
        <Text span c="dimmed">
          none
        </Text>
      )}
    </Text>
  );
}
