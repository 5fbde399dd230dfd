import { Alert, Badge, Button, Checkbox, Code, CopyButton, Group, Paper, Select, Stack, Switch, Table, Text, TextInput, Title } from '@mantine/core';
import { keepPreviousData, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { SECRET_EVENTS, type SecretEventName } from '@server/modules/webhooks/secret-event';
import { api, unwrap } from '../../api/client';
import { projectKeys, webhookKeys } from '../../api/keys';
import { ErrorAlert } from '../../components/error-alert';
import { MutationForm } from '../../components/mutation-form';
import { Pager } from '../../components/pager';
import { can, Permission } from '../../components/permissions';
import { useOrg } from '../../components/session';
import { Link, navigate } from '../../router';

const LOG_PAGE = 20;

/** What the create and edit forms hold; `project` '' and `environments` '' mean "every". */
interface WebhookFields {
  url: string;
  events: SecretEventName[];
  project: string;
  environments: string;
  description: string;
  enabled: boolean;
}

const EMPTY: WebhookFields = {
  url: '',
  events: ['secret.created', 'secret.updated', 'secret.deleted'],
  project: '',
  environments: '',
  description: '',
  enabled: true,
};

function environmentList(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean);
}

function useProjects(orgId: string | undefined) {
  return useQuery({
    queryKey: projectKeys.all(orgId ?? ''),
    queryFn: () => unwrap(api.GET('/v1/projects/{orgId}', { params: { path: { orgId: orgId! } } })),
    enabled: !!orgId,
  });
}

function WebhookFieldsForm({ orgId, value, onChange }: { orgId: string; value: WebhookFields; onChange: (v: WebhookFields) => void }) {
  const projects = useProjects(orgId);
  const set = (patch: Partial<WebhookFields>) => onChange({ ...value, ...patch });
  return (
    <>
      <TextInput label="URL" required placeholder="https://hooks.example.com/secr" value={value.url} onChange={(e) => set({ url: e.currentTarget.value })} />
      <Checkbox.Group label="Events" value={value.events} onChange={(events) => set({ events: events as SecretEventName[] })}>
        <Group mt={4}>
          {SECRET_EVENTS.map((e) => (
            <Checkbox key={e} value={e} label={e} />
          ))}
        </Group>
      </Checkbox.Group>
      <Group grow align="start">
        <Select
          label="Project"
          placeholder="Every project"
          clearable
          data={(projects.data?.projects ?? []).map((p) => ({ value: p.slug, label: p.name }))}
          value={value.project || null}
          onChange={(project) => set({ project: project ?? '' })}
        />
        <TextInput
          label="Environments"
          placeholder="Every environment"
          description="Slugs, separated by commas"
          value={value.environments}
          onChange={(e) => set({ environments: e.currentTarget.value })}
        />
      </Group>
      <TextInput label="Webhook description" value={value.description} onChange={(e) => set({ description: e.currentTarget.value })} />
      <Switch label="Enabled" checked={value.enabled} onChange={(e) => set({ enabled: e.currentTarget.checked })} />
    </>
  );
}

function EventBadges({ events }: { events: string[] }) {
  return (
    <Group gap={4}>
      {events.map((e) => (
        <Badge key={e} variant="light" tt="none" size="sm">
          {e}
        </Badge>
      ))}
    </Group>
  );
}

export function WebhooksPage({ org: orgSlug }: { org: string }) {
  const org = useOrg(orgSlug);
  const client = useQueryClient();
  const [fields, setFields] = useState<WebhookFields>(EMPTY);
  const webhooks = useQuery({
    queryKey: webhookKeys.all(org?.id ?? ''),
    queryFn: () => unwrap(api.GET('/v1/webhooks/{orgId}', { params: { path: { orgId: org!.id } } })),
    enabled: !!org && can(org.role, Permission.WebhooksRead),
  });
  const create = useMutation({
    mutationFn: () => {
      const environments = environmentList(fields.environments);
      return unwrap(
        api.POST('/v1/webhooks/{orgId}', {
          params: { path: { orgId: org!.id } },
          body: {
            url: fields.url,
            events: fields.events,
            enabled: fields.enabled,
            ...(fields.project ? { project: fields.project } : {}),
            ...(environments.length ? { environments } : {}),
            ...(fields.description ? { description: fields.description } : {}),
          },
        }),
      );
    },
    onSuccess: () => {
      setFields(EMPTY);
      return client.invalidateQueries({ queryKey: webhookKeys.all(org!.id) });
    },
  });
  if (!org) return null;
  if (!can(org.role, Permission.WebhooksRead)) return <Alert color="gray">Only owners and admins manage this organization's webhooks.</Alert>;
  return (
    <Stack>
      <Title order={2}>{org.name}: webhooks</Title>
      <ErrorAlert error={webhooks.error} />
      <Table striped highlightOnHover>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>URL</Table.Th>
            <Table.Th>Events</Table.Th>
            <Table.Th>Project</Table.Th>
            <Table.Th>Environments</Table.Th>
            <Table.Th>State</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {webhooks.data?.webhooks.map((w) => (
            <Table.Tr key={w.id}>
              <Table.Td>
                <Link to={`/orgs/${orgSlug}/webhooks/${w.id}`}>{w.url}</Link>
                {w.description ? (
                  <Text size="xs" c="dimmed">
                    {w.description}
                  </Text>
                ) : null}
              </Table.Td>
              <Table.Td>
                <EventBadges events={w.events} />
              </Table.Td>
              <Table.Td>{w.project?.slug ?? 'every'}</Table.Td>
              <Table.Td>{w.environments?.join(', ') ?? 'every'}</Table.Td>
              <Table.Td>{w.enabled ? 'enabled' : 'disabled'}</Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {webhooks.data?.webhooks.length === 0 ? <Text c="dimmed">No webhooks yet.</Text> : null}
      {create.data ? (
        <Alert color="green" title="Webhook created: copy its signing secret now, it is shown only once">
          <Stack gap="xs">
            <Text size="sm">Receivers check X-Secr-Signature: sha256=HMAC-SHA256(raw body, this secret).</Text>
            <Group>
              <Code aria-label="Signing secret">{create.data.secret}</Code>
              <CopyButton value={create.data.secret}>
                {({ copied, copy }) => (
                  <Button size="compact-xs" variant="light" onClick={copy}>
                    {copied ? 'Copied' : 'Copy'}
                  </Button>
                )}
              </CopyButton>
              <Button size="compact-xs" variant="subtle" component={Link} to={`/orgs/${orgSlug}/webhooks/${create.data.id}`}>
                Open
              </Button>
            </Group>
          </Stack>
        </Alert>
      ) : null}
      {can(org.role, Permission.WebhooksWrite) ? (
        <Paper withBorder p="md" maw={760}>
          <Title order={4} mb="sm">
            New webhook
          </Title>
          <MutationForm mutation={create} submit="Create webhook">
            <WebhookFieldsForm orgId={org.id} value={fields} onChange={setFields} />
          </MutationForm>
        </Paper>
      ) : null}
    </Stack>
  );
}

const OUTCOME_COLOR: Record<string, string> = { delivered: 'green', retrying: 'yellow', failed: 'red' };

export function WebhookPage({ org: orgSlug, id }: { org: string; id: string }) {
  const org = useOrg(orgSlug);
  const client = useQueryClient();
  const [offset, setOffset] = useState(0);
  const [fields, setFields] = useState<WebhookFields | null>(null);
  /** The test delivery sent from this page, polled for until its attempt is in the log. */
  const [testDelivery, setTestDelivery] = useState<string | null>(null);
  const orgId = org?.id ?? '';
  const webhook = useQuery({
    queryKey: webhookKeys.one(orgId, id, offset),
    queryFn: () => unwrap(api.GET('/v1/webhooks/{orgId}/{id}', { params: { path: { orgId, id }, query: { limit: LOG_PAGE, offset } } })),
    enabled: !!org,
    placeholderData: keepPreviousData,
    refetchInterval: (query) => (testDelivery && !query.state.data?.deliveries.some((d) => d.deliveryId === testDelivery) ? 1000 : false),
  });
  const refresh = () => client.invalidateQueries({ queryKey: webhookKeys.all(orgId) });
  const update = useMutation({
    mutationFn: () => {
      const f = fields!;
      const environments = environmentList(f.environments);
      return unwrap(
        api.PATCH('/v1/webhooks/{orgId}/{id}', {
          params: { path: { orgId, id } },
          body: {
            url: f.url,
            events: f.events,
            enabled: f.enabled,
            project: f.project || null,
            environments: environments.length ? environments : null,
            description: f.description || null,
          },
        }),
      );
    },
    onSuccess: () => {
      setFields(null);
      return refresh();
    },
  });
  const test = useMutation({
    mutationFn: () => unwrap(api.POST('/v1/webhooks/{orgId}/{id}/test', { params: { path: { orgId, id } } })),
    onSuccess: (sent) => {
      setOffset(0);
      setTestDelivery(sent.deliveryId);
      return refresh();
    },
  });
  const remove = useMutation({
    mutationFn: () => unwrap(api.DELETE('/v1/webhooks/{orgId}/{id}', { params: { path: { orgId, id } } })),
    onSuccess: async () => {
      await refresh();
      navigate(`/orgs/${orgSlug}/webhooks`, { replace: true });
    },
  });
  if (!org) return null;
  const w = webhook.data;
  const write = can(org.role, Permission.WebhooksWrite);
  const testSeen = !!testDelivery && !!w?.deliveries.some((d) => d.deliveryId === testDelivery);
  return (
    <Stack>
      <Group justify="space-between">
        <Title order={2}>Webhook</Title>
        <Button component={Link} to={`/orgs/${orgSlug}/webhooks`} variant="default">
          All webhooks
        </Button>
      </Group>
      <ErrorAlert error={webhook.error ?? test.error ?? remove.error} />
      {w ? (
        <Paper withBorder p="md">
          {fields ? (
            <MutationForm mutation={update} submit="Save webhook">
              <WebhookFieldsForm orgId={orgId} value={fields} onChange={setFields} />
              <Button variant="default" onClick={() => setFields(null)}>
                Cancel
              </Button>
            </MutationForm>
          ) : (
            <Stack gap="xs">
              <Text fw={600}>{w.url}</Text>
              {w.description ? <Text size="sm">{w.description}</Text> : null}
              <EventBadges events={w.events} />
              <Text size="sm">
                Project: {w.project?.slug ?? 'every project'} · Environments: {w.environments?.join(', ') ?? 'every environment'} ·{' '}
                {w.enabled ? 'enabled' : 'disabled'} · Signing secret <Code>{w.secretHint}</Code>
              </Text>
              {write ? (
                <Group>
                  <Button
                    variant="light"
                    onClick={() =>
                      setFields({
                        url: w.url,
                        events: w.events as SecretEventName[],
                        project: w.project?.slug ?? '',
                        environments: w.environments?.join(', ') ?? '',
                        description: w.description ?? '',
                        enabled: w.enabled,
                      })
                    }
                  >
                    Edit
                  </Button>
                  <Button variant="light" onClick={() => test.mutate()} loading={test.isPending}>
                    Send test delivery
                  </Button>
                  <Button
                    color="red"
                    variant="subtle"
                    onClick={() => window.confirm(`Delete the webhook to ${w.url} and its delivery log?`) && remove.mutate()}
                  >
                    Delete
                  </Button>
                </Group>
              ) : null}
              {testDelivery ? (
                <Text size="sm" role="status">
                  {testSeen ? 'Test delivery attempted: see the log below.' : 'Test delivery queued; waiting for its attempt…'}
                </Text>
              ) : null}
            </Stack>
          )}
        </Paper>
      ) : null}
      <Title order={3}>Delivery log</Title>
      <Table striped>
        <Table.Thead>
          <Table.Tr>
            <Table.Th>When</Table.Th>
            <Table.Th>Event</Table.Th>
            <Table.Th>Attempt</Table.Th>
            <Table.Th>Outcome</Table.Th>
            <Table.Th>Status</Table.Th>
            <Table.Th>Time</Table.Th>
            <Table.Th>Error / answer</Table.Th>
          </Table.Tr>
        </Table.Thead>
        <Table.Tbody>
          {w?.deliveries.map((d) => (
            <Table.Tr key={d.id}>
              <Table.Td>{new Date(d.createdAt).toLocaleString()}</Table.Td>
              <Table.Td>{d.event}</Table.Td>
              <Table.Td>{d.attempt}</Table.Td>
              <Table.Td>
                <Badge color={OUTCOME_COLOR[d.outcome] ?? 'gray'} variant="light">
                  {d.outcome}
                </Badge>
              </Table.Td>
              <Table.Td>{d.statusCode ?? '—'}</Table.Td>
              <Table.Td>{d.durationMs} ms</Table.Td>
              <Table.Td>
                <Text size="xs" lineClamp={2}>
                  {d.error ?? d.response ?? ''}
                </Text>
              </Table.Td>
            </Table.Tr>
          ))}
        </Table.Tbody>
      </Table>
      {w?.deliveries.length === 0 ? <Text c="dimmed">No delivery yet.</Text> : null}
      <Pager page={w?.pagination} onOffset={setOffset} noun="attempts" />
    </Stack>
  );
}
