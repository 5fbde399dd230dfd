import { Center, Loader } from '@mantine/core';
import { lazy, Suspense, useEffect, type ReactNode } from 'react';
import { ErrorAlert } from './components/error-alert';
import { useMe } from './components/session';
import { Shell } from './components/shell';
import { AccountPage } from './features/account/account-page';
import { ActivityPage } from './features/account/activity-page';
import { AuditPage } from './features/audit/audit-page';
import { BillingPage } from './features/billing/billing-page';
import { ForgotPasswordPage, ResetPasswordPage, SignInPage, SignUpPage, VerifyEmailPage } from './features/auth/auth-forms';
import { CliLoginPage } from './features/cli-login/cli-login-page';
import { AcceptInvitePage, MembersPage } from './features/members/members-pages';
import { OidcTrustsPage } from './features/oidc/oidc-trusts-page';
import { OrgSettingsPage, OrgsPage } from './features/orgs/orgs-pages';
import { ProjectPage, ProjectsPage } from './features/projects/projects-pages';
import { PromotePage } from './features/promotion/promote-page';
import { SecretsPage } from './features/secrets/secrets-page';
import { TemplatesPage } from './features/templates/templates-page';
import { WebhookPage, WebhooksPage } from './features/webhooks/webhooks-pages';
import { match, navigate, useLocation } from './router';

/** Instance administration (and its chart): a chunk of its own, fetched only when an admin page opens. */
const AdminPages = lazy(() => import('./features/admin/admin-pages'));

/** Pages anyone may open; they handle being signed in or out themselves. */
const PUBLIC: Record<string, () => ReactNode> = {
  '/sign-in': () => <SignInPage />,
  '/sign-up': () => <SignUpPage />,
  '/forgot-password': () => <ForgotPasswordPage />,
  '/reset-password': () => <ResetPasswordPage />,
  '/verify-email': () => <VerifyEmailPage />,
  '/invite': () => <AcceptInvitePage />,
  '/cli-login': () => <CliLoginPage />,
};

/** Signed-in pages, inside the shell; `org` names the org of the switcher. */
const PAGES: Array<[string, (p: Record<string, string>) => ReactNode]> = [
  ['/orgs', () => <OrgsPage />],
  ['/account', () => <AccountPage />],
  ['/account/activity', () => <ActivityPage />],
  ['/orgs/:org', (p) => <ProjectsPage org={p.org} />],
  ['/orgs/:org/members', (p) => <MembersPage org={p.org} />],
  ['/orgs/:org/audit', (p) => <AuditPage org={p.org} />],
  ['/orgs/:org/oidc', (p) => <OidcTrustsPage org={p.org} />],
  ['/orgs/:org/settings', (p) => <OrgSettingsPage org={p.org} />],
  ['/orgs/:org/webhooks', (p) => <WebhooksPage org={p.org} />],
  ['/orgs/:org/webhooks/:id', (p) => <WebhookPage org={p.org} id={p.id} />],
  ['/orgs/:org/billing', (p) => <BillingPage org={p.org} />],
  ['/orgs/:org/projects/:project/templates', (p) => <TemplatesPage org={p.org} project={p.project} />],
  ['/orgs/:org/projects/:project', (p) => <ProjectPage org={p.org} project={p.project} />],
  ['/orgs/:org/projects/:project/promote', (p) => <PromotePage org={p.org} project={p.project} />],
  ['/orgs/:org/projects/:project/envs/:env', (p) => <SecretsPage org={p.org} project={p.project} env={p.env} />],
];

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

export function App() {
  const { path } = useLocation();
  const me = useMe();
  const open = PUBLIC[path];
  if (open) return <>{open()}</>;
  if (me.isPending) {
    return (
      <Center h="100vh">
        <Loader />
      </Center>
    );
  }
  if (me.error) return <ErrorAlert error={me.error} />;
  if (!me.data) return <Redirect to="/sign-in" />;
  if (path === '/') return <Redirect to={me.data.orgs[0] ? `/orgs/${me.data.orgs[0].slug}` : '/orgs'} />;
  if (path === '/admin' || path.startsWith('/admin/')) {
    // Offered in the menu to instance admins only; anyone else who opens it sees the API's 403.
    return (
      <Shell>
        <Suspense fallback={<Loader />}>
          <AdminPages path={path} />
        </Suspense>
      </Shell>
    );
  }
  for (const [pattern, render] of PAGES) {
    const params = match(pattern, path);
    if (params) return <Shell org={params.org}>{render(params)}</Shell>;
  }
  return <Shell>Page not found.</Shell>;
}
