import { Badge, Button, Group, Paper, Select, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { projectKeys } from '../../api/keys';
import { ErrorAlert } from '../../components/error-alert';
import { MutationForm } from '../../components/mutation-form';
import { can, canReadTier, Permission, type Tier } from '../../components/permissions';
import { useOrg } from '../../components/session';
import { Link, navigate } from '../../router';

export function useProject(orgId: string | undefined, slug: string) {
  return useQuery({
    queryKey: projectKeys.one(orgId ?? '', slug),
    queryFn: () => unwrap(api.GET('/v1/projects/{orgId}/{slug}', { params: { path: { orgId: orgId!, slug } } })),
    enabled: !!orgId,
  });
}

export function ProjectsPage({ org: orgSlug }: { org: string }) {
  const org = useOrg(orgSlug);
  const client = useQueryClient();
  const [name, setName] = useState('');
  const projects = useQuery({
    queryKey: projectKeys.all(org?.id ?? ''),
    queryFn: () => unwrap(api.GET('/v1/projects/{orgId}', { params: { path: { orgId: org!.id } } })),
    enabled: !!org,
  });
  const create = useMutation({
    mutationFn: () => unwrap(api.POST('/v1/projects/{orgId}', { params: { path: { orgId: org!.id } }, body: { name } })),
    onSuccess: async (project) => {
      setName('');
      await client.invalidateQueries({ queryKey: projectKeys.all(org!.id) });
      navigate(`/orgs/${orgSlug}/projects/${project.slug}`);
    },
  });
  const remove = useMutation({
    mutationFn: (slug: string) => unwrap(api.DELETE('/v1/projects/{orgId}/{slug}', { params: { path: { orgId: org!.id, slug } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: projectKeys.all(org!.id) }),
  });
  if (!org) return <Text>Unknown organization.</Text>;
  return (
    <Stack>
      <Title order={2}>{org.name}: projects</Title>
      <ErrorAlert error={projects.error ?? remove.error} />
      <Table striped highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Project</Table.Th>
            <Table.Th>Environments</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {projects.data?.projects.map((p) => (
            <Table.Tr key={p.id}>
              <Table.Td>
                <Link to={`/orgs/${orgSlug}/projects/${p.slug}`}>{p.name}</Link>
              </Table.Td>
              <Table.Td>{p.environments.length}</Table.Td>
              <Table.Td>
                {can(org.role, Permission.ProjectsDelete) ? (
                  <Button
                    size="xs"
                    color="red"
                    variant="subtle"
                    onClick={() => window.confirm(`Delete ${p.slug} and all its secrets?`) && remove.mutate(p.slug)}
                  >
                    Delete
                  </Button>
                ) : null}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {projects.data?.projects.length === 0 ? <Text c="dimmed">No projects yet.</Text> : null}
      {can(org.role, Permission.ProjectsCreate) ? (
        <Paper withBorder p="md" maw={480}>
          <MutationForm mutation={create} submit="Create project">
            <TextInput label="Project name" required value={name} onChange={(e) => setName(e.currentTarget.value)} />
          </MutationForm>
        </Paper>
      ) : null}
    </Stack>
  );
}

const TIER_COLOR: Record<Tier, string> = { development: 'green', staging: 'yellow', production: 'red' };

export function TierBadge({ tier }: { tier: Tier }) {
  return (
    <Badge color={TIER_COLOR[tier]} variant="light">
      {tier}
    </Badge>
  );
}

export function ProjectPage({ org: orgSlug, project: slug }: { org: string; project: string }) {
  const org = useOrg(orgSlug);
  const client = useQueryClient();
  const project = useProject(org?.id, slug);
  const [envSlug, setEnvSlug] = useState('');
  const [tier, setTier] = useState<Tier>('production');
  const createEnv = useMutation({
    mutationFn: () =>
      unwrap(api.POST('/v1/projects/{orgId}/{slug}/environments', { params: { path: { orgId: org!.id, slug } }, body: { slug: envSlug, tier } })),
    onSuccess: () => {
      setEnvSlug('');
      return client.invalidateQueries({ queryKey: projectKeys.one(org!.id, slug) });
    },
  });
  if (!org) return null;
  // What a role may not read is not offered: a viewer sees no staging or production environment.
  const environments = (project.data?.environments ?? []).filter((e) => canReadTier(org.role, e.tier));
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>{project.data?.name ?? slug}</Title>
        <Group>
          <Button component={Link} to={`/orgs/${orgSlug}/projects/${slug}/templates`} variant="default">
            Template
          </Button>
          {can(org.role, Permission.SecretsPromote) ? (
            <Button component={Link} to={`/orgs/${orgSlug}/projects/${slug}/promote`} variant="light">
              Promote secrets
            </Button>
          ) : null}
        </Group>
      </Group>
      <ErrorAlert error={project.error} />
      <Table striped highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Environment</Table.Th>
            <Table.Th>Tier</Table.Th>
            <Table.Th>Secrets</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {environments.map((e) => (
            <Table.Tr key={e.id}>
              <Table.Td>
                <Link to={`/orgs/${orgSlug}/projects/${slug}/envs/${e.slug}`}>{e.name}</Link>
              </Table.Td>
              <Table.Td>
                <TierBadge tier={e.tier} />
              </Table.Td>
              <Table.Td>{e.secretCount}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {can(org.role, Permission.EnvironmentsCreate) ? (
        <Paper withBorder p="md" maw={560}>
          <form
            onSubmit={(e) => {
              e.preventDefault();
              createEnv.mutate();
            }}
          >
            <Stack>
              <Title order={4}>Custom environment</Title>
              <ErrorAlert error={createEnv.error} />
              <Group align="end">
                <TextInput label="Environment slug" required value={envSlug} onChange={(e) => setEnvSlug(e.currentTarget.value)} />
                <Select
                  label="Tier"
                  data={['development', 'staging', 'production']}
                  value={tier}
                  onChange={(v) => v && setTier(v as Tier)}
                  allowDeselect={false}
                />
                <Button type="submit" loading={createEnv.isPending}>
                  Create environment
                </Button>
              </Group>
            </Stack>
          </form>
        </Paper>
      ) : null}
    </Stack>
  );
}
