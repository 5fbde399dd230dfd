import { Badge, Button, ColorSwatch, Group, Paper, SegmentedControl, Select, SimpleGrid, Stack, Table, Text, TextInput, Title } from '@mantine/core';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { LIMIT_LABELS, LIMIT_NAMES, PLANS, type LimitName, type PlanName } from '@server/modules/plans/plan-limits';
import { api, unwrap } from '../../api/client';
import { adminKeys } from '../../api/keys';
import { ErrorAlert } from '../../components/error-alert';
import { MutationForm } from '../../components/mutation-form';
import { Pager } from '../../components/pager';
import { Link, match } from '../../router';
import { formatLimit, LimitsTable } from '../billing/billing-page';
import { CHART_LEGEND, MetricsChart, type HourBar } from './metrics-chart';

/** The instance admin's pages (users with isAdmin): loaded on demand, in a chunk of their own. */
export default function AdminPages({ path }: { path: string }) {
  const org = match('/admin/orgs/:orgId', path);
  if (org) return <AdminOrgPage orgId={org.orgId} />;
  if (path === '/admin/orgs') return <AdminOrgsPage />;
  if (path === '/admin/plans') return <AdminPlansPage />;
  return <AdminOverviewPage />;
}

function AdminNav() {
  return (
    <Group>
      <Button component={Link} to="/admin" variant="default" size="xs">
        Overview
      </Button>
      <Button component={Link} to="/admin/orgs" variant="default" size="xs">
        All organizations
      </Button>
      <Button component={Link} to="/admin/plans" variant="default" size="xs">
        All plans
      </Button>
    </Group>
  );
}

const HOURS = ['24', '72', '168'];

function AdminOverviewPage() {
  const [hours, setHours] = useState('24');
  const stats = useQuery({ queryKey: adminKeys.stats, queryFn: () => unwrap(api.GET('/v1/admin/stats')) });
  const metrics = useQuery({
    queryKey: adminKeys.metrics(Number(hours)),
    queryFn: () => unwrap(api.GET('/v1/admin/metrics/summary', { params: { query: { hours: Number(hours) } } })),
    placeholderData: keepPreviousData,
  });
  const rows = metrics.data?.rows ?? [];
  // Per hour over every route, for the chart; per route over every hour, for the table.
  const perHour = new Map<string, HourBar>();
  const perRoute = new Map<string, { method: string; route: string; count: number; errors: number; clientErrors: number; p95Ms: number }>();
  for (const r of rows) {
    const h = perHour.get(r.hour) ?? { hour: r.hour, count: 0, errors: 0, clientErrors: 0 };
    h.count += r.count;
    h.errors += r.errors;
    h.clientErrors += r.clientErrors;
    perHour.set(r.hour, h);
    const key = `${r.method} ${r.route}`;
    const t = perRoute.get(key) ?? { method: r.method, route: r.route, count: 0, errors: 0, clientErrors: 0, p95Ms: 0 };
    t.count += r.count;
    t.errors += r.errors;
    t.clientErrors += r.clientErrors;
    t.p95Ms = Math.max(t.p95Ms, r.p95Ms);
    perRoute.set(key, t);
  }
  const routes = [...perRoute.values()].sort((a, b) => b.count - a.count).slice(0, 15);
  return (
    <Stack>
      <Title order={2}>Instance administration</Title>
      <AdminNav />
      <ErrorAlert error={stats.error ?? metrics.error} />
      {stats.data ? (
        <SimpleGrid cols={{ base: 2, sm: 4 }}>
          {(['users', 'orgs', 'projects', 'secrets'] as const).map((k) => (
            <Paper key={k} withBorder p="md" role="group" aria-label={`Count of ${k}`}>
              <Text size="sm" c="dimmed">
                {k}
              </Text>
              <Text fw={700} size="xl">
                {stats.data[k]}
              </Text>
            </Paper>
          ))}
        </SimpleGrid>
      ) : null}
      <Group justify="space-between">
        <Title order={3}>Requests</Title>
        <SegmentedControl aria-label="Hours" data={HOURS.map((h) => ({ value: h, label: `${h} h` }))} value={hours} onChange={setHours} />
      </Group>
      <Paper withBorder p="md">
        <MetricsChart bars={[...perHour.values()]} hours={Number(hours)} />
        <Group gap="md" mt="xs">
          {CHART_LEGEND.map((l) => (
            <Group key={l.label} gap={4}>
              <ColorSwatch color={l.color} size={12} />
              <Text size="xs">{l.label}</Text>
            </Group>
          ))}
        </Group>
      </Paper>
      <Table striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Route</Table.Th>
            <Table.Th>Requests</Table.Th>
            <Table.Th>4xx</Table.Th>
            <Table.Th>5xx</Table.Th>
            <Table.Th>Worst hourly p95</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {routes.map((r) => (
            <Table.Tr key={`${r.method} ${r.route}`}>
              <Table.Td ff="monospace">
                {r.method} {r.route}
              </Table.Td>
              <Table.Td>{r.count}</Table.Td>
              <Table.Td>{r.clientErrors}</Table.Td>
              <Table.Td>{r.errors}</Table.Td>
              <Table.Td>{r.p95Ms} ms</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {metrics.data && rows.length === 0 ? <Text c="dimmed">No request recorded in this window yet (figures are written every 15 s).</Text> : null}
    </Stack>
  );
}

const ORGS_PAGE = 50;

function AdminOrgsPage() {
  const [offset, setOffset] = useState(0);
  const orgs = useQuery({
    queryKey: adminKeys.orgs(offset),
    queryFn: () => unwrap(api.GET('/v1/admin/orgs', { params: { query: { limit: ORGS_PAGE, offset } } })),
    placeholderData: keepPreviousData,
  });
  return (
    <Stack>
      <Title order={2}>All organizations</Title>
      <AdminNav />
      <ErrorAlert error={orgs.error} />
      <Table striped highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>Organization</Table.Th>
            <Table.Th>Plan</Table.Th>
            <Table.Th>Projects</Table.Th>
            <Table.Th>Members</Table.Th>
            <Table.Th>Webhooks</Table.Th>
            <Table.Th>Secrets</Table.Th>
            <Table.Th>Created</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {orgs.data?.orgs.map((o) => (
            <Table.Tr key={o.id}>
              <Table.Td>
                <Link to={`/admin/orgs/${o.id}`}>{o.name}</Link>{' '}
                <Text span c="dimmed" size="xs">
                  {o.slug}
                </Text>
              </Table.Td>
              <Table.Td>
                {o.effectivePlan}
                {o.plan ? '' : ' (default)'}
              </Table.Td>
              <Table.Td>{o.usage.projects}</Table.Td>
              <Table.Td>
                {o.usage.members}
                {o.usage.pendingInvites ? ` + ${o.usage.pendingInvites} invited` : ''}
              </Table.Td>
              <Table.Td>{o.usage.webhooks}</Table.Td>
              <Table.Td>{o.usage.secrets}</Table.Td>
              <Table.Td>{new Date(o.createdAt).toLocaleDateString()}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      <Pager page={orgs.data?.pagination} onOffset={setOffset} noun="organizations" />
    </Stack>
  );
}

type LimitTexts = Partial<Record<LimitName, string>>;

function toTexts(values: Partial<Record<LimitName, number>>): LimitTexts {
  return Object.fromEntries(LIMIT_NAMES.filter((n) => values[n] !== undefined).map((n) => [n, String(values[n])]));
}

/** Empty = not set; anything else goes to the API as a number, which judges it (-1 = unlimited). */
function toValues(texts: LimitTexts): Partial<Record<LimitName, number>> {
  return Object.fromEntries(LIMIT_NAMES.filter((n) => texts[n]?.trim()).map((n) => [n, Number(texts[n])]));
}

function LimitInputs({ texts, onChange, placeholder }: { texts: LimitTexts; onChange: (t: LimitTexts) => void; placeholder: (n: LimitName) => string }) {
  return (
    <SimpleGrid cols={{ base: 1, sm: 3 }}>
      {LIMIT_NAMES.map((n) => (
        <TextInput
          key={n}
          label={LIMIT_LABELS[n]}
          placeholder={placeholder(n)}
          inputMode="numeric"
          value={texts[n] ?? ''}
          onChange={(e) => onChange({ ...texts, [n]: e.currentTarget.value })}
        />
      ))}
    </SimpleGrid>
  );
}

function AdminOrgPage({ orgId }: { orgId: string }) {
  const client = useQueryClient();
  const org = useQuery({ queryKey: adminKeys.org(orgId), queryFn: () => unwrap(api.GET('/v1/admin/orgs/{orgId}', { params: { path: { orgId } } })) });
  const [plan, setPlan] = useState<string | null>(null);
  const [overrides, setOverrides] = useState<LimitTexts | null>(null);
  const update = useMutation({
    mutationFn: () =>
      unwrap(
        api.PATCH('/v1/admin/orgs/{orgId}', {
          params: { path: { orgId } },
          body: { plan: plan === 'default' ? null : (plan as PlanName), limitOverrides: toValues(overrides ?? {}) },
        }),
      ),
    onSuccess: (saved) => {
      client.setQueryData(adminKeys.org(orgId), saved);
      setPlan(null);
      setOverrides(null);
      return client.invalidateQueries({ queryKey: adminKeys.all });
    },
  });
  const o = org.data;
  const shownPlan = plan ?? o?.plan ?? 'default';
  const shownOverrides = overrides ?? (o ? toTexts(o.limitOverrides) : {});
  return (
    <Stack maw={960}>
      <Title order={2}>{o?.name ?? 'Organization'}</Title>
      <AdminNav />
      <ErrorAlert error={org.error} />
      {o ? (
        <>
          <Text>
            <code>{o.slug}</code> · plan in effect <Badge variant="light">{o.effectivePlan}</Badge> · {o.usage.projects} projects, {o.usage.members} members,{' '}
            {o.usage.pendingInvites} pending invitations, {o.usage.webhooks} webhooks, {o.usage.secrets} secrets
          </Text>
          <LimitsTable limits={o.limits} />
          <Paper withBorder p="md">
            <MutationForm mutation={update} submit="Save plan and overrides">
              <Select
                label="Plan"
                w={240}
                allowDeselect={false}
                data={[{ value: 'default', label: "The server's default plan" }, ...PLANS.map((p) => ({ value: p, label: p }))]}
                value={shownPlan}
                onChange={setPlan}
              />
              <Text size="sm" c="dimmed">
                Overrides win over the plan. Empty = the plan's limit; -1 = unlimited.
              </Text>
              <LimitInputs texts={shownOverrides} onChange={setOverrides} placeholder={(n) => formatLimit(o.limits[n].value)} />
            </MutationForm>
          </Paper>
        </>
      ) : null}
    </Stack>
  );
}

function AdminPlansPage() {
  const plans = useQuery({ queryKey: adminKeys.plans, queryFn: () => unwrap(api.GET('/v1/admin/plans')) });
  return (
    <Stack maw={960}>
      <Title order={2}>Plans</Title>
      <AdminNav />
      <Text size="sm" c="dimmed">
        Each plan's limits as stored on this server; an empty field falls back to the built-in default (shown greyed). -1 = unlimited.
      </Text>
      <ErrorAlert error={plans.error} />
      {plans.data?.plans.map((p) => (
        <PlanEditor key={p.name} plan={p} />
      ))}
    </Stack>
  );
}

function PlanEditor({
  plan,
}: {
  plan: { name: PlanName; isDefault: boolean; config: Partial<Record<LimitName, number>>; limits: Record<LimitName, { value: number }> };
}) {
  const client = useQueryClient();
  const [texts, setTexts] = useState<LimitTexts | null>(null);
  const save = useMutation({
    mutationFn: () => unwrap(api.PUT('/v1/admin/plans/{planName}', { params: { path: { planName: plan.name } }, body: { limits: toValues(texts ?? {}) } })),
    onSuccess: () => {
      setTexts(null);
      return client.invalidateQueries({ queryKey: adminKeys.all });
    },
  });
  return (
    <Paper withBorder p="md" role="group" aria-label={`Plan ${plan.name}`}>
      <Title order={4} mb="sm">
        {plan.name} {plan.isDefault ? <Badge variant="light">default plan</Badge> : null}
      </Title>
      <MutationForm mutation={save} submit={`Save ${plan.name}`}>
        <LimitInputs texts={texts ?? toTexts(plan.config)} onChange={setTexts} placeholder={(n) => formatLimit(plan.limits[n].value)} />
      </MutationForm>
    </Paper>
  );
}
