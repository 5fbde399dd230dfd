import { Alert, Badge, Button, Group, Paper, Progress, SimpleGrid, Stack, Table, Text, Title } from '@mantine/core';
import { useMutation, useQuery } from '@tanstack/react-query';
import { LIMIT_LABELS, LIMIT_NAMES, UNLIMITED, type LimitName } from '@server/modules/plans/plan-limits';
import { api, unwrap } from '../../api/client';
import { billingKeys } from '../../api/keys';
import { ErrorAlert } from '../../components/error-alert';
import { can, Permission } from '../../components/permissions';
import { useOrg } from '../../components/session';

/** The limits billing counts usage for (the others are per project, environment or user). */
const USAGE_OF: Partial<Record<LimitName, 'projects' | 'members' | 'webhooks'>> = {
  projectsPerOrg: 'projects',
  membersPerOrg: 'members',
  webhooksPerOrg: 'webhooks',
};

export function formatLimit(value: number): string {
  return value === UNLIMITED ? 'unlimited' : String(value);
}

export function BillingPage({ org: orgSlug }: { org: string }) {
  const org = useOrg(orgSlug);
  const allowed = !!org && can(org.role, Permission.BillingRead);
  const status = useQuery({
    queryKey: billingKeys.status(org?.id ?? ''),
    queryFn: () => unwrap(api.GET('/v1/billing/{orgId}', { params: { path: { orgId: org!.id } } })),
    enabled: allowed,
  });
  // Stripe answers with the URL of its hosted page; the dashboard only sends the person there.
  const checkout = useMutation({
    mutationFn: (plan: 'pro' | 'team') => unwrap(api.POST('/v1/billing/{orgId}/checkout', { params: { path: { orgId: org!.id } }, body: { plan } })),
    onSuccess: ({ url }) => window.location.assign(url),
  });
  const portal = useMutation({
    mutationFn: () => unwrap(api.POST('/v1/billing/{orgId}/portal', { params: { path: { orgId: org!.id } } })),
    onSuccess: ({ url }) => window.location.assign(url),
  });
  if (!org) return null;
  if (!allowed) return <Alert color="gray">Only the organization's owners and admins see its plan and billing.</Alert>;
  const s = status.data;
  const manage = can(org.role, Permission.BillingManage);
  return (
    <Stack maw={900}>
      <Title order={2}>{org.name}: plan and billing</Title>
      <ErrorAlert error={status.error ?? checkout.error ?? portal.error} />
      {s ? (
        <>
          <Paper withBorder p="md">
            <Group justify="space-between" align="start">
              <Stack gap={4}>
                <Group gap="xs">
                  <Text fw={600}>Plan</Text>
                  <Badge size="lg" variant="light" aria-label="Plan">
                    {s.plan}
                  </Badge>
                  {s.planIsDefault ? (
                    <Text size="sm" c="dimmed">
                      (this server's default plan)
                    </Text>
                  ) : null}
                </Group>
                <Text size="sm">
                  Subscription: {s.subscriptionStatus ?? 'none'}
                  {s.currentPeriodEnd ? ` · current period ends ${new Date(s.currentPeriodEnd).toLocaleDateString()}` : ''}
                </Text>
              </Stack>
              {s.billingConfigured && manage ? (
                <Group>
                  {s.plan !== 'pro' ? (
                    <Button variant="light" onClick={() => checkout.mutate('pro')} loading={checkout.isPending && checkout.variables === 'pro'}>
                      Upgrade to Pro
                    </Button>
                  ) : null}
                  {s.plan !== 'team' ? (
                    <Button variant="light" onClick={() => checkout.mutate('team')} loading={checkout.isPending && checkout.variables === 'team'}>
                      Upgrade to Team
                    </Button>
                  ) : null}
                  {s.subscriptionStatus ? (
                    <Button variant="default" onClick={() => portal.mutate()} loading={portal.isPending}>
                      Manage subscription
                    </Button>
                  ) : null}
                </Group>
              ) : null}
            </Group>
            {!s.billingConfigured ? (
              <Text size="sm" c="dimmed" mt="sm">
                Payments are not set up on this server: the plan is set by its administrators.
              </Text>
            ) : !manage ? (
              <Text size="sm" c="dimmed" mt="sm">
                Only an owner changes the plan.
              </Text>
            ) : null}
          </Paper>
          <SimpleGrid cols={{ base: 1, sm: 3 }}>
            {LIMIT_NAMES.filter((name) => USAGE_OF[name]).map((name) => {
              const used = s.usage[USAGE_OF[name]!];
              const limit = s.limits[name].value;
              const ratio = limit === UNLIMITED || limit === 0 ? 0 : Math.min(1, used / limit);
              return (
                <Paper key={name} withBorder p="md" role="group" aria-label={`Usage of ${LIMIT_LABELS[name]}`}>
                  <Text size="sm" c="dimmed">
                    {LIMIT_LABELS[name]}
                  </Text>
                  <Text fw={600} size="lg">
                    {used} / {formatLimit(limit)}
                  </Text>
                  {limit !== UNLIMITED ? <Progress value={ratio * 100} color={ratio >= 1 ? 'red' : ratio >= 0.8 ? 'yellow' : 'blue'} mt="xs" /> : null}
                </Paper>
              );
            })}
          </SimpleGrid>
          <LimitsTable limits={s.limits} />
        </>
      ) : null}
    </Stack>
  );
}

export function LimitsTable({ limits }: { limits: Record<LimitName, { value: number; source: string }> }) {
  return (
    <Table striped maw={640}>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>Limit</Table.Th>
          <Table.Th>Value</Table.Th>
          <Table.Th>From</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {LIMIT_NAMES.map((name) => (
          <Table.Tr key={name}>
            <Table.Td>{LIMIT_LABELS[name]}</Table.Td>
            <Table.Td>{formatLimit(limits[name].value)}</Table.Td>
            <Table.Td>{limits[name].source.replace('_', ' ')}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}
