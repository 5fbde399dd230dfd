import { Center, Loader } from '@mantine/core';
import { useEffect, type ReactNode } from 'react';
import { ErrorAlert } from './components/error-alert';
import { useMe } from './components/session';
import { Shell } from './components/shell';
import { AccountPage } from './features/account/account-page';
import { AuditPage } from './features/audit/audit-page';
import { ForgotPasswordPage, ResetPasswordPage, SignInPage, SignUpPage, VerifyEmailPage } from './features/auth/auth-forms';
import { CliLoginPage } from './features/cli-login/cli-login-page';
import { AcceptInvitePage, MembersPage } from './features/members/members-pages';
import { OidcTrustsPage } from './features/oidc/oidc-trusts-page';
import { OrgSettingsPage, OrgsPage } from './features/orgs/orgs-pages';
import { ProjectPage, ProjectsPage } from './features/projects/projects-pages';
import { PromotePage } from './features/promotion/promote-page';
import { SecretsPage } from './features/secrets/secrets-page';
import { match, navigate, useLocation } from './router';

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
  ['/orgs/:org', (p) => <ProjectsPage org={p.org} />],
  ['/orgs/:org/members', (p) => <MembersPage org={p.org} />],
  ['/orgs/:org/audit', (p) => <AuditPage org={p.org} />],
  ['/orgs/:org/oidc', (p) => <OidcTrustsPage org={p.org} />],
  ['/orgs/:org/settings', (p) => <OrgSettingsPage org={p.org} />],
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
  for (const [pattern, render] of PAGES) {
    const params = match(pattern, path);
    if (params) return <Shell org={params.org}>{render(params)}</Shell>;
  }
  return <Shell>Page not found.</Shell>;
}
