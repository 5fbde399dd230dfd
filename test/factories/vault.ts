import { randomBytes } from 'node:crypto';
import type { Credentials } from '../support/http.js';
import { HttpClient } from '../support/http.js';
import type { TestOrg, TestUser } from './accounts.js';

export interface TestProject {
  id: string;
  slug: string;
}

/** A project (with development, staging and production) created by `user`, an owner or admin of `org`. */
export async function createProject(api: HttpClient, user: TestUser, org: TestOrg, slug = `proj-${randomBytes(3).toString('hex')}`): Promise<TestProject> {
  const res = await api.post(`/v1/projects/${org.id}`, { name: slug, slug }, { session: user.session });
  if (res.status !== 201) throw new Error(`create project failed: ${res.status} ${res.text}`);
  return { id: res.body.id, slug: res.body.slug };
}

export function secretsPath(org: TestOrg, project: TestProject, env: string): string {
  return `/v1/secrets/${org.slug}/${project.slug}/${env}`;
}

/** Sets secrets in one bulk import; fails the test setup on anything but 200. */
export async function seedSecrets(
  api: HttpClient,
  credentials: Credentials,
  org: TestOrg,
  project: TestProject,
  env: string,
  values: Record<string, string>,
): Promise<void> {
  const secrets = Object.entries(values).map(([key, value]) => ({ key, value }));
  const res = await api.post(`${secretsPath(org, project, env)}/bulk`, { secrets }, credentials);
  if (res.status !== 200) throw new Error(`seeding secrets failed: ${res.status} ${res.text}`);
}

/** A token of `user` with the full scope the API accepts (org, project, environments); fails the setup on anything but 201. */
export async function createVaultToken(
  api: HttpClient,
  user: TestUser,
  scope: { access: 'read' | 'read_write'; orgId?: string; projectId?: string; environments?: string[] },
): Promise<{ id: string; token: string; environments: string[] | null }> {
  const res = await api.post('/v1/auth/token', { name: 'vault token', ...scope }, { session: user.session });
  if (res.status !== 201) throw new Error(`token failed: ${res.status} ${res.text}`);
  return { id: res.body.id, token: res.body.token, environments: res.body.environments };
}

/** Sets one secret; fails the test setup on anything but 200. Returns the version written. */
export async function setSecret(
  api: HttpClient,
  credentials: Credentials,
  org: TestOrg,
  project: TestProject,
  env: string,
  secret: { key: string; value: string; description?: string },
): Promise<number> {
  const res = await api.put(secretsPath(org, project, env), secret, credentials);
  if (res.status !== 200) throw new Error(`setting a secret failed: ${res.status} ${res.text}`);
  return res.body.version;
}
