import { AppShell, Button, Group, NavLink, Select, Text } from '@mantine/core';
import { useMutation, useQueryClient } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { api, unwrap } from '../api/client';
import { Link, navigate } from '../router';
import { can, Permission } from './permissions';
import { useMe } from './session';

/** The frame of every signed-in page: org switcher, the org's sections, the account and sign-out. */
export function Shell({ org, children }: { org?: string; children: ReactNode }) {
  const me = useMe().data;
  const client = useQueryClient();
  const signOut = useMutation({
    // Ends the server session (the cookie is HttpOnly: only the server can clear it), then every cache.
    mutationFn: () => unwrap(api.POST('/v1/auth/logout')),
    onSettled: () => {
      client.clear();
      navigate('/sign-in', { replace: true });
    },
  });
  const current = me?.orgs.find((o) => o.slug === org);
  const section = (label: string, to: string, show = true) =>
    show ? <NavLink key={to} label={label} component={Link} to={to} active={location.pathname === to} /> : null;
  return (
    <AppShell header={{ height: 52 }} navbar={{ width: 220, breakpoint: 'sm' }} padding="md">
      <AppShell.Header px="md">
        <Group h="100%" justify="space-between">
          <Group>
            <Text fw={700} component={Link} to="/">
              secr
            </Text>
            <Select
              aria-label="Organization"
              size="xs"
              w={220}
              data={(me?.orgs ?? []).map((o) => ({ value: o.slug, label: `${o.name} (${o.role})` }))}
              value={current?.slug ?? null}
              onChange={(slug) => slug && navigate(`/orgs/${slug}`)}
              allowDeselect={false}
            />
          </Group>
          <Group>
            <Text size="sm" c="dimmed">
              {me?.user.email}
            </Text>
            <Button size="xs" variant="default" onClick={() => signOut.mutate()} loading={signOut.isPending}>
              Sign out
            </Button>
          </Group>
        </Group>
      </AppShell.Header>
      <AppShell.Navbar p="xs">
        {current ? (
          <>
            {section('Projects', `/orgs/${current.slug}`)}
            {section('Members', `/orgs/${current.slug}/members`)}
            {section('Webhooks', `/orgs/${current.slug}/webhooks`, can(current.role, Permission.WebhooksRead))}
            {section('Keyless CI', `/orgs/${current.slug}/oidc`, can(current.role, Permission.OidcTrustsRead))}
            {section('Audit log', `/orgs/${current.slug}/audit`, can(current.role, Permission.AuditRead))}
            {section('Billing', `/orgs/${current.slug}/billing`, can(current.role, Permission.BillingRead))}
            {section('Settings', `/orgs/${current.slug}/settings`)}
          </>
        ) : null}
        {section('Organizations', '/orgs')}
        {section('Account', '/account')}
        {section('Account activity', '/account/activity')}
        {section('Administration', '/admin', !!me?.user.isAdmin)}
      </AppShell.Navbar>
      <AppShell.Main>{children}</AppShell.Main>
    </AppShell>
  );
}
