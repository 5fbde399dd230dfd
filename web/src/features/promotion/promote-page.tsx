import { Badge, Button, Checkbox, Group, Select, Stack, Table, Text, Title } from '@mantine/core';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { api, unwrap } from '../../api/client';
import { projectKeys, secretKeys } from '../../api/keys';
import { ErrorAlert } from '../../components/error-alert';
import { canReadTier } from '../../components/permissions';
import { useOrg } from '../../components/session';
import { Link } from '../../router';
import { useProject } from '../projects/projects-pages';

/** Promotion: source, target, keys, overwrite; the server's dry run is shown as a plan before anything changes. */
export function PromotePage({ org: orgSlug, project: projectSlug }: { org: string; project: string }) {
  const org = useOrg(orgSlug);
  const project = useProject(org?.id, projectSlug);
  const client = useQueryClient();
  const [fromEnv, setFrom] = useState<string | null>(null);
  const [toEnv, setTo] = useState<string | null>(null);
  const [overwrite, setOverwrite] = useState(false);
  const [picked, setPicked] = useState<ReadonlySet<string>>(new Set());
  const environments = project.data?.environments ?? [];
  const sourceKeys = useQuery({
    queryKey: [...secretKeys.all(orgSlug, projectSlug), fromEnv, 'promote-source'],
    queryFn: () => unwrap(api.GET('/v1/secrets/{orgSlug}/{project}/{env}/keys', { params: { path: { orgSlug, project: projectSlug, env: fromEnv! } } })),
    enabled: !!fromEnv,
  });
  const body = () => ({ fromEnv: fromEnv!, toEnv: toEnv!, overwrite, ...(picked.size ? { keys: [...picked] } : {}) });
  const plan = useMutation({
    mutationFn: () =>
      unwrap(api.POST('/v1/secrets/{orgSlug}/{project}/promote', { params: { path: { orgSlug, project: projectSlug } }, body: { ...body(), dryRun: true } })),
  });
  const apply = useMutation({
    mutationFn: () =>
      unwrap(api.POST('/v1/secrets/{orgSlug}/{project}/promote', { params: { path: { orgSlug, project: projectSlug } }, body: { ...body(), dryRun: false } })),
    onSuccess: () => {
      plan.reset();
      void client.invalidateQueries({ queryKey: secretKeys.all(orgSlug, projectSlug) });
      if (org) void client.invalidateQueries({ queryKey: projectKeys.one(org.id, projectSlug) });
    },
  });
  const changed = () => {
    plan.reset();
    apply.reset();
  };
  if (!org) return null;
  const options = environments.map((e) => ({ value: e.slug, label: `${e.name} (${e.tier})` }));
  const readable = options.filter((o) => canReadTier(org.role, environments.find((e) => e.slug === o.value)!.tier));
  return (
    <Stack maw={820}>
      <Title order={2}>
        <Link to={`/orgs/${orgSlug}/projects/${projectSlug}`}>{project.data?.name ?? projectSlug}</Link>: promote secrets
      </Title>
      <Group align="end">
        <Select label="From" data={readable} value={fromEnv} onChange={(v) => (setFrom(v), setPicked(new Set()), changed())} />
        <Select label="To" data={options} value={toEnv} onChange={(v) => (setTo(v), changed())} />
        <Checkbox label="Overwrite existing keys" checked={overwrite} onChange={(e) => (setOverwrite(e.currentTarget.checked), changed())} />
      </Group>
      {sourceKeys.data ? (
        <Stack gap={4}>
          <Text size="sm">Keys to promote (none ticked = all {sourceKeys.data.keys.length}):</Text>
          <Group>
            {sourceKeys.data.keys.map((k) => (
              <Checkbox
                key={k.key}
                label={k.key}
                checked={picked.has(k.key)}
                onChange={() => {
                  const next = new Set(picked);
                  if (!next.delete(k.key)) next.add(k.key);
                  setPicked(next);
                  changed();
                }}
              />
            ))}
          </Group>
        </Stack>
      ) : null}
      <ErrorAlert error={sourceKeys.error ?? plan.error ?? apply.error} />
      <Group>
        <Button onClick={() => plan.mutate()} disabled={!fromEnv || !toEnv} loading={plan.isPending}>
          Preview plan
        </Button>
        {plan.data ? (
          <Button color="green" onClick={() => apply.mutate()} loading={apply.isPending}>
            Apply: {plan.data.created} new, {plan.data.updated} overwritten
          </Button>
        ) : null}
      </Group>
      {plan.data ? (
        <Stack gap="xs">
          <Title order={4}>Plan (nothing changed yet)</Title>
          <Text size="sm">
            {plan.data.created} created, {plan.data.updated} updated, {plan.data.skipped} skipped
          </Text>
          <Table>
            <Table.Tbody>
              {plan.data.results.map((r) => (
                <Table.Tr key={r.key}>
                  <Table.Td>{r.key}</Table.Td>
                  <Table.Td>
                    <Badge color={r.action === 'skipped' ? 'gray' : r.action === 'created' ? 'green' : 'orange'}>{r.action}</Badge>
                  </Table.Td>
                </Table.Tr>
              ))}
            </Table.Tbody>
          </Table>
        </Stack>
      ) : null}
      {apply.data ? (
        <Text role="status">
          Promoted {apply.data.promoted} key(s) from {fromEnv} to {toEnv}: {apply.data.created} created, {apply.data.updated} updated, {apply.data.skipped}{' '}
          skipped.
        </Text>
      ) : null}
    </Stack>
  );
}
