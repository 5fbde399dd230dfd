import { Button, Code, CopyButton, Group, NumberInput, Paper, Select, Stack, Table, Text, Textarea, TextInput, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { projectKeys } from '../../api/keys';
import { ErrorAlert } from '../../components/error-alert';
import { MutationForm } from '../../components/mutation-form';
import { can, Permission } from '../../components/permissions';
import { useOrg } from '../../components/session';

/** Query keys of this page's domain (keyless CI trust relationships). */
export const oidcKeys = {
  all: (orgId: string) => ['oidc-trusts', orgId] as const,
};

const GITHUB_ISSUER = 'https://token.actions.githubusercontent.com';

/** `claim=pattern` per line → conditions. */
function parseConditions(text: string): Array<{ claim: string; pattern: string }> {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => {
      const at = line.indexOf('=');
      return { claim: line.slice(0, at).trim(), pattern: line.slice(at + 1).trim() };
    });
}

/** Keyless CI: the org's trust relationships with CI OIDC issuers (owner/admin). */
export function OidcTrustsPage({ org: orgSlug }: { org: string }) {
  const org = useOrg(orgSlug);
  const client = useQueryClient();
  const allowed = can(org?.role, Permission.OidcTrustsRead);
  const trusts = useQuery({
    queryKey: oidcKeys.all(org?.id ?? ''),
    queryFn: () => unwrap(api.GET('/v1/orgs/{orgId}/oidc-trusts', { params: { path: { orgId: org!.id } } })),
    enabled: !!org && allowed,
  });
  const remove = useMutation({
    mutationFn: (trustId: string) => unwrap(api.DELETE('/v1/orgs/{orgId}/oidc-trusts/{trustId}', { params: { path: { orgId: org!.id, trustId } } })),
    onSuccess: () => client.invalidateQueries({ queryKey: oidcKeys.all(org!.id) }),
  });
  if (!org) return null;
  if (!allowed) return <Text>Only owners and admins manage keyless CI.</Text>;
  return (
    <Stack>
      <Title order={2}>{org.name}: keyless CI</Title>
      <Text c="dimmed">
        Pipelines whose OIDC token matches a relationship exchange it for a short-lived token: set <Code>SECR_OIDC</Code> to the relationship’s id in the
        pipeline, and it needs no stored secret.
      </Text>
      <ErrorAlert error={trusts.error ?? remove.error} />
      <Table striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Name</Table.Th>
            <Table.Th>Issuer</Table.Th>
            <Table.Th>Conditions</Table.Th>
            <Table.Th>Grants</Table.Th>
            <Table.Th>SECR_OIDC</Table.Th>
            <Table.Th />
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {trusts.data?.trusts.map((t) => (
            <Table.Tr key={t.id}>
              <Table.Td>{t.name}</Table.Td>
              <Table.Td>
                {t.issuer}
                <Text size="xs" c="dimmed">
                  audience {t.audience}
                </Text>
              </Table.Td>
              <Table.Td>
                {t.conditions.map((c) => (
                  <div key={`${c.claim}=${c.pattern}`}>
                    <Code>
                      {c.claim} = {c.pattern}
                    </Code>
                  </div>
                ))}
              </Table.Td>
              <Table.Td>
                {t.projectSlug} / {t.environments?.join(', ') ?? 'every environment'}, {t.access === 'read' ? 'read' : 'read and write'}, {t.ttlSeconds / 60}{' '}
                min
              </Table.Td>
              <Table.Td>
                <CopyButton value={t.id}>
                  {({ copied, copy }) => (
                    <Button size="compact-xs" variant="default" onClick={copy} aria-label={`Copy the id of ${t.name}`}>
                      {copied ? 'Copied' : t.id.slice(0, 8)}
                    </Button>
                  )}
                </CopyButton>
              </Table.Td>
              <Table.Td>
                {can(org.role, Permission.OidcTrustsManage) ? (
                  <Button
                    size="compact-xs"
                    color="red"
                    variant="subtle"
                    onClick={() => window.confirm(`Delete ${t.name}? Pipelines using it lose access at once.`) && remove.mutate(t.id)}
                  >
                    Delete
                  </Button>
                ) : null}
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {can(org.role, Permission.OidcTrustsManage) ? <CreateTrust orgId={org.id} /> : null}
    </Stack>
  );
}

function CreateTrust({ orgId }: { orgId: string }) {
  const client = useQueryClient();
  const [name, setName] = useState('');
  const [issuer, setIssuer] = useState(GITHUB_ISSUER);
  const [audience, setAudience] = useState(window.location.origin);
  const [conditions, setConditions] = useState('repository=');
  const [project, setProject] = useState<string | null>(null);
  const [environments, setEnvironments] = useState('');
  const [access, setAccess] = useState<'read' | 'read_write'>('read');
  const [ttlMinutes, setTtlMinutes] = useState<number>(15);
  const projects = useQuery({
    queryKey: projectKeys.all(orgId),
    queryFn: () => unwrap(api.GET('/v1/projects/{orgId}', { params: { path: { orgId } } })),
  });
  const create = useMutation({
    mutationFn: () => {
      const envs = environments
        .split(/[\s,]+/)
        .map((e) => e.trim())
        .filter(Boolean);
      const body = {
        name,
        issuer,
        audience,
        conditions: parseConditions(conditions),
        project: project ?? '',
        access,
        ttlSeconds: Math.round(ttlMinutes * 60),
        ...(envs.length ? { environments: envs } : {}),
      };
      return unwrap(api.POST('/v1/orgs/{orgId}/oidc-trusts', { params: { path: { orgId } }, body }));
    },
    onSuccess: () => {
      setName('');
      void client.invalidateQueries({ queryKey: oidcKeys.all(orgId) });
    },
  });
  return (
    <Paper withBorder p="md" maw={640}>
      <Title order={4} mb="sm">
        Trust a CI provider
      </Title>
      <MutationForm mutation={create} submit="Create relationship">
        <TextInput label="Name" description="Unique in the org, e.g. github-deploy" required value={name} onChange={(e) => setName(e.currentTarget.value)} />
        <TextInput
          label="Issuer"
          description="GitHub Actions by default; GitLab: https://gitlab.com"
          required
          value={issuer}
          onChange={(e) => setIssuer(e.currentTarget.value)}
        />
        <TextInput
          label="Audience"
          description="What the pipeline asks its token for"
          required
          value={audience}
          onChange={(e) => setAudience(e.currentTarget.value)}
        />
        <Textarea
          label="Conditions"
          description="One claim=pattern per line, all must hold; * and ? are wildcards (repository=acme/api, ref=refs/heads/main)"
          required
          autosize
          minRows={2}
          value={conditions}
          onChange={(e) => setConditions(e.currentTarget.value)}
        />
        <Group grow>
          <Select
            label="Project"
            required
            data={projects.data?.projects.map((p) => ({ value: p.slug, label: p.name })) ?? []}
            value={project}
            onChange={setProject}
          />
          <TextInput
            label="Environments"
            description="Comma-separated; empty = all"
            value={environments}
            onChange={(e) => setEnvironments(e.currentTarget.value)}
          />
        </Group>
        <Group grow>
          <Select
            label="Access"
            data={[
              { value: 'read', label: 'Read' },
              { value: 'read_write', label: 'Read and write' },
            ]}
            value={access}
            allowDeselect={false}
            onChange={(v) => v && setAccess(v as 'read' | 'read_write')}
          />
          <NumberInput label="Token lifetime (minutes)" min={1} max={60} value={ttlMinutes} onChange={(v) => setTtlMinutes(Number(v) || 15)} />
        </Group>
      </MutationForm>
    </Paper>
  );
}
