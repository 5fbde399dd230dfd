import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { Role } from '../src/common/auth/permissions.js';
import { createTeam, createToken, registerUser, type OrgWithTeam, type TestOrg, type TestUser } from './factories/accounts.js';
import { startTestContext, type TestContext } from './support/test-app.js';

describe('orgs and members', () => {
  let ctx: TestContext;
  /**
   * Registered once (argon2 is slow); every test that changes memberships gets its own team org
   * made of these same people, so no test depends on another.
   */
  let people: { owner: TestUser; admin: TestUser; developer: TestUser; viewer: TestUser; outsider: TestUser; bystander: TestUser };

  beforeAll(async () => {
    ctx = await startTestContext();
    const [owner, admin, developer, viewer, outsider, bystander] = await Promise.all(
      ['owner', 'admin', 'developer', 'viewer', 'outsider', 'bystander'].map((name) => registerUser(ctx.api, name)),
    );
    people = { owner, admin, developer, viewer, outsider, bystander };
  });
  afterAll(() => ctx.close());

  const team = (): Promise<OrgWithTeam> =>
    createTeam(ctx.api, { owner: people.owner, admin: people.admin, developer: people.developer, viewer: people.viewer });
  const suffix = () => randomBytes(3).toString('hex');

  const invite = (org: TestOrg, by: TestUser, email: string, role: Role) =>
    ctx.api.post(`/v1/members/${org.id}/invite`, { email, role }, { session: by.session });
  const accept = (token: string, as: TestUser) => ctx.api.post(`/v1/members/invite/${token}/accept`, undefined, { session: as.session });
  const listMembers = (org: TestOrg, as: TestUser) => ctx.api.get(`/v1/members/${org.id}`, { session: as.session });

  async function roleOf(org: TestOrg, user: TestUser): Promise<Role | null> {
    const { rows } = await ctx.db.query('SELECT role FROM memberships WHERE org_id = $1 AND user_id = $2', [org.id, user.id]);
    return rows[0]?.role ?? null;
  }

  describe('creating an org', () => {
    it('makes the creator its owner, and /auth/me lists it', async () => {
      const slug = `acme-${suffix()}`;
      const res = await ctx.api.post('/v1/orgs', { name: 'Acme Rockets', slug }, { session: people.outsider.session });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ slug, name: 'Acme Rockets', role: 'owner' });

      const me = await ctx.api.get('/v1/auth/me', { session: people.outsider.session });
      expect(me.body.orgs).toContainEqual(expect.objectContaining({ id: res.body.id, slug, role: 'owner' }));
      const { rows } = await ctx.db.query('SELECT user_id, role FROM memberships WHERE org_id = $1', [res.body.id]);
      expect(rows).toEqual([{ user_id: people.outsider.id, role: 'owner' }]);
    });

    it('derives the slug from the name when none is given, dropping accents', async () => {
      const tag = suffix();
      const res = await ctx.api.post('/v1/orgs', { name: `Crème Brûlée ${tag}` }, { session: people.outsider.session });
      expect(res.status).toBe(201);
      expect(res.body.slug).toBe(`creme-brulee-${tag}`);
    });

    it('gives a derived slug a random suffix when the plain one is taken', async () => {
      const name = `Twin Peaks ${suffix()}`;
      const first = await ctx.api.post('/v1/orgs', { name }, { session: people.outsider.session });
      const second = await ctx.api.post('/v1/orgs', { name }, { session: people.bystander.session });
      expect(second.status).toBe(201);
      expect(second.body.slug).toMatch(new RegExp(`^${first.body.slug}-[0-9a-f]{6}$`));
    });

    it('refuses a slug that is taken with 409 and creates nothing', async () => {
      const slug = `taken-${suffix()}`;
      expect((await ctx.api.post('/v1/orgs', { name: 'First', slug }, { session: people.outsider.session })).status).toBe(201);
      const count = async () =>
        (await ctx.db.query('SELECT (SELECT count(*) FROM orgs)::int AS orgs, (SELECT count(*) FROM memberships)::int AS memberships')).rows[0];
      const before = await count();

      const res = await ctx.api.post('/v1/orgs', { name: 'Second', slug }, { session: people.bystander.session });
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('conflict');
      expect(await count()).toEqual(before);
      const me = await ctx.api.get('/v1/auth/me', { session: people.bystander.session });
      expect(me.body.orgs.map((o: { slug: string }) => o.slug)).not.toContain(slug);
    });
  });

  describe('invitations', () => {
    it('returns the token once, stores only its SHA-256, and lists the invitation as pending', async () => {
      const { org, owner } = await team();
      const res = await invite(org, owner, people.outsider.email, 'developer');
      expect(res.status).toBe(201);
      expect(res.body.token).toEqual(expect.any(String));
      expect(res.body.invite).toMatchObject({ email: people.outsider.email, role: 'developer', invitedBy: owner.id });

      const { rows } = await ctx.db.query('SELECT token_hash FROM org_invites WHERE id = $1', [res.body.invite.id]);
      expect(rows[0].token_hash.equals(createHash('sha256').update(res.body.token).digest())).toBe(true);

      const list = await listMembers(org, owner);
      expect(list.status).toBe(200);
      expect(list.body.invites).toEqual([expect.objectContaining({ id: res.body.invite.id, email: people.outsider.email, role: 'developer' })]);
      expect(list.body.members.map((m: { userId: string }) => m.userId)).not.toContain(people.outsider.id);
      expect(list.text).not.toContain(res.body.token);
    });

    it('makes the invited person a member with the invited role when they accept', async () => {
      const { org, owner } = await team();
      const { body } = await invite(org, owner, people.outsider.email.toUpperCase(), 'viewer');
      const res = await accept(body.token, people.outsider);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: org.id, slug: org.slug, role: 'viewer' });

      const list = await listMembers(org, people.outsider);
      expect(list.status).toBe(200);
      expect(list.body.members).toContainEqual(expect.objectContaining({ userId: people.outsider.id, email: people.outsider.email, role: 'viewer' }));
      expect(list.body.invites).toEqual([]);
      const me = await ctx.api.get('/v1/auth/me', { session: people.outsider.session });
      expect(me.body.orgs).toContainEqual(expect.objectContaining({ id: org.id, role: 'viewer' }));
    });

    it('refuses an acceptance signed in with another address (403), and changes nothing', async () => {
      const { org, owner } = await team();
      const { body } = await invite(org, owner, people.outsider.email, 'admin');
      const res = await accept(body.token, people.bystander);
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('forbidden');
      expect(await roleOf(org, people.bystander)).toBeNull();
      expect((await listMembers(org, owner)).body.invites).toEqual([expect.objectContaining({ id: body.invite.id })]);

      // The invitation is still good for the person it was sent to.
      expect((await accept(body.token, people.outsider)).status).toBe(200);
    });

    it('accepts a token only once: the second attempt is 404', async () => {
      const { org, owner } = await team();
      const { body } = await invite(org, owner, people.outsider.email, 'developer');
      expect((await accept(body.token, people.outsider)).status).toBe(200);
      const again = await accept(body.token, people.outsider);
      expect(again.status).toBe(404);
      expect(again.body.code).toBe('not_found');
    });

    it('refuses an acceptance made with a token scoped to another org, and changes nothing', async () => {
      const { org, owner } = await team();
      const { body } = await invite(org, owner, people.outsider.email, 'developer');
      const scoped = await createToken(ctx.api, people.outsider, { access: 'read_write', orgId: people.outsider.personalOrg.id });
      const res = await ctx.api.post(`/v1/members/invite/${body.token}/accept`, undefined, { token: scoped.token });
      expect(res.status).toBe(403);
      expect(await roleOf(org, people.outsider)).toBeNull();
      expect((await accept(body.token, people.outsider)).status).toBe(200);
    });

    it('treats an expired invitation as not found and no longer lists it', async () => {
      const { org, owner } = await team();
      const { body } = await invite(org, owner, people.outsider.email, 'developer');
      await ctx.db.query(`UPDATE org_invites SET expires_at = now() - interval '1 second' WHERE id = $1`, [body.invite.id]);
      expect((await accept(body.token, people.outsider)).status).toBe(404);
      expect(await roleOf(org, people.outsider)).toBeNull();
      expect((await listMembers(org, owner)).body.invites).toEqual([]);
    });

    it('replaces the open invitation when the same address is invited again', async () => {
      const { org, owner } = await team();
      const first = await invite(org, owner, people.outsider.email, 'viewer');
      const second = await invite(org, owner, people.outsider.email, 'developer');
      expect(second.status).toBe(201);
      expect((await listMembers(org, owner)).body.invites).toEqual([expect.objectContaining({ id: second.body.invite.id, role: 'developer' })]);
      expect((await accept(first.body.token, people.outsider)).status).toBe(404);
      expect((await accept(second.body.token, people.outsider)).body.role).toBe('developer');
    });

    it('audits the invitation a new one replaces as withdrawn (member.invite_revoked), naming its successor', async () => {
      const { org, owner, admin } = await team();
      const first = await invite(org, owner, people.outsider.email, 'viewer');
      const second = await invite(org, admin, people.outsider.email, 'developer');
      expect(second.status).toBe(201);
      const { rows } = await ctx.db.query(
        `SELECT actor_user_id, metadata FROM audit_events WHERE org_id = $1 AND action = 'member.invite_revoked' ORDER BY id`,
        [org.id],
      );
      expect(rows).toEqual([
        {
          actor_user_id: admin.id,
          metadata: { inviteId: first.body.invite.id, email: people.outsider.email, role: 'viewer', replacedBy: second.body.invite.id },
        },
      ]);
    });

    it('does not let an admin replace an open owner invitation by inviting the address again (403), which withdrawing it directly is not either', async () => {
      const { org, owner, admin } = await team();
      const invitee = people.outsider;
      const asOwner = await invite(org, owner, invitee.email, 'owner');
      expect(asOwner.status).toBe(201);
      const direct = await ctx.api.delete(`/v1/members/${org.id}/invites/${asOwner.body.invite.id}`, { session: admin.session });
      expect(direct.status).toBe(403);

      const replaced = await invite(org, admin, invitee.email, 'viewer');
      expect(replaced.status).toBe(403);
      expect(replaced.body).toMatchObject({ code: 'forbidden', message: expect.stringMatching(/cannot replace an open invitation for the role owner/) });
      expect((await listMembers(org, owner)).body.invites).toEqual([expect.objectContaining({ id: asOwner.body.invite.id, role: 'owner' })]);
      const { rows } = await ctx.db.query(`SELECT count(*)::int AS n FROM audit_events WHERE org_id = $1 AND action = 'member.invite_revoked'`, [org.id]);
      expect(rows[0].n).toBe(0);
      // The owner invitation still works.
      expect((await accept(asOwner.body.token, invitee)).body.role).toBe('owner');
    });

    it('lets an admin replace an owner invitation that has expired', async () => {
      const { org, owner, admin } = await team();
      const asOwner = await invite(org, owner, people.outsider.email, 'owner');
      await ctx.db.query(`UPDATE org_invites SET expires_at = now() - interval '1 second' WHERE id = $1`, [asOwner.body.invite.id]);
      const replaced = await invite(org, admin, people.outsider.email, 'viewer');
      expect(replaced.status).toBe(201);
      expect((await accept(replaced.body.token, people.outsider)).body.role).toBe('viewer');
    });

    it('answers 8 parallel invitations of one address with 201 or 409 conflict, never 500, and keeps one open invitation', async () => {
      const { org, owner } = await team();
      const email = `race-${suffix()}@example.com`;
      const results = await Promise.all(Array.from({ length: 8 }, () => invite(org, owner, email, 'viewer')));
      const statuses = results.map((r) => r.status);
      expect(statuses.filter((s) => s !== 201 && s !== 409)).toEqual([]);
      expect(statuses).toContain(201);
      for (const conflict of results.filter((r) => r.status === 409)) {
        expect(conflict.body).toMatchObject({ statusCode: 409, code: 'conflict', requestId: expect.any(String) });
      }
      const { rows } = await ctx.db.query(
        'SELECT count(*)::int AS open FROM org_invites WHERE org_id = $1 AND email = $2 AND accepted_at IS NULL AND revoked_at IS NULL',
        [org.id, email],
      );
      expect(rows[0].open).toBe(1);
      expect((await listMembers(org, owner)).body.invites.filter((i: { email: string }) => i.email === email)).toHaveLength(1);
    });

    it('refuses to invite someone who is already a member (409)', async () => {
      const { org, owner, developer } = await team();
      const res = await invite(org, owner, developer.email, 'admin');
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('conflict');
      expect((await listMembers(org, owner)).body.invites).toEqual([]);
    });

    it('does not let an admin invite an owner (403), but lets an owner', async () => {
      const { org, owner, admin } = await team();
      const byAdmin = await invite(org, admin, people.outsider.email, 'owner');
      expect(byAdmin.status).toBe(403);
      expect((await listMembers(org, owner)).body.invites).toEqual([]);
      expect((await invite(org, admin, people.outsider.email, 'admin')).status).toBe(201);

      const byOwner = await invite(org, owner, people.outsider.email, 'owner');
      expect(byOwner.status).toBe(201);
      expect((await accept(byOwner.body.token, people.outsider)).body.role).toBe('owner');
    });

    it('never writes an invitation token into the audit log', async () => {
      const { org, owner, admin } = await team();
      const tokens: string[] = [];
      for (const [by, role] of [
        [owner, 'viewer'],
        [admin, 'developer'],
      ] as const) {
        tokens.push((await invite(org, by, people.outsider.email, role)).body.token);
      }
      await accept(tokens[1], people.bystander); // refused: another address
      await accept(tokens[0], people.outsider); // refused: replaced
      expect((await accept(tokens[1], people.outsider)).status).toBe(200);

      const { rows } = await ctx.db.query(`SELECT action, metadata::text AS metadata FROM audit_events WHERE org_id = $1`, [org.id]);
      expect(rows.map((r) => r.action)).toEqual(expect.arrayContaining(['member.invited', 'member.joined']));
      for (const token of tokens) expect(JSON.stringify(rows)).not.toContain(token);
      const { rows: everywhere } = await ctx.db.query(`SELECT count(*)::int AS n FROM audit_events WHERE metadata::text LIKE ANY ($1)`, [
        tokens.map((t) => `%${t}%`),
      ]);
      expect(everywhere[0].n).toBe(0);
    });
  });

  describe('changing roles', () => {
    it('lets an owner change a member’s role, and audits the change', async () => {
      const { org, owner, developer } = await team();
      const res = await ctx.api.patch(`/v1/members/${org.id}/${developer.id}`, { role: 'admin' }, { session: owner.session });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ userId: developer.id, email: developer.email, role: 'admin' });
      expect(await roleOf(org, developer)).toBe('admin');

      const { rows } = await ctx.db.query(`SELECT actor_user_id, metadata FROM audit_events WHERE org_id = $1 AND action = 'member.role_changed'`, [org.id]);
      expect(rows).toEqual([{ actor_user_id: owner.id, metadata: { userId: developer.id, from: 'developer', to: 'admin' } }]);
    });

    it('refuses to demote the last owner (409) and leaves the role unchanged', async () => {
      const { org, owner } = await team();
      const res = await ctx.api.patch(`/v1/members/${org.id}/${owner.id}`, { role: 'admin' }, { session: owner.session });
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('conflict');
      expect(await roleOf(org, owner)).toBe('owner');
    });

    it('lets one of two owners be demoted, after which the other is the last owner', async () => {
      const { org, owner, admin } = await team();
      const promote = await ctx.api.patch(`/v1/members/${org.id}/${admin.id}`, { role: 'owner' }, { session: owner.session });
      expect(promote.status).toBe(200);
      const demote = await ctx.api.patch(`/v1/members/${org.id}/${owner.id}`, { role: 'admin' }, { session: admin.session });
      expect(demote.status).toBe(200);
      expect(await roleOf(org, owner)).toBe('admin');

      const lastOwner = await ctx.api.patch(`/v1/members/${org.id}/${admin.id}`, { role: 'developer' }, { session: admin.session });
      expect(lastOwner.status).toBe(409);
      expect(await roleOf(org, admin)).toBe('owner');
    });
  });

  describe('removing members', () => {
    it('refuses to remove the last owner (409)', async () => {
      const { org, owner } = await team();
      const res = await ctx.api.delete(`/v1/members/${org.id}/${owner.id}`, { session: owner.session });
      expect(res.status).toBe(409);
      expect(res.body.code).toBe('conflict');
      expect(await roleOf(org, owner)).toBe('owner');
    });

    it('does not let an admin remove an owner (403)', async () => {
      const { org, owner, admin } = await team();
      const res = await ctx.api.delete(`/v1/members/${org.id}/${owner.id}`, { session: admin.session });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('forbidden');
      expect(await roleOf(org, owner)).toBe('owner');
    });

    it('lets an admin remove a developer, who then loses access with every credential', async () => {
      const { org, owner, admin, developer } = await team();
      const token = await createToken(ctx.api, developer, { access: 'read', orgId: org.id });
      expect((await listMembers(org, developer)).status).toBe(200);

      const res = await ctx.api.delete(`/v1/members/${org.id}/${developer.id}`, { session: admin.session });
      expect(res.status).toBe(204);
      expect((await listMembers(org, developer)).status).toBe(403);
      // The token scoped to the org was revoked with the membership (issue 11).
      expect((await ctx.api.get(`/v1/members/${org.id}`, { token: token.token })).status).toBe(401);
      const me = await ctx.api.get('/v1/auth/me', { session: developer.session });
      expect(me.body.orgs.map((o: { id: string }) => o.id)).not.toContain(org.id);
      expect((await listMembers(org, owner)).body.members.map((m: { userId: string }) => m.userId)).not.toContain(developer.id);

      const { rows } = await ctx.db.query(`SELECT actor_user_id, metadata FROM audit_events WHERE org_id = $1 AND action = 'member.removed'`, [org.id]);
      expect(rows).toEqual([
        { actor_user_id: admin.id, metadata: { userId: developer.id, email: developer.email, role: 'developer', revokedTokens: 1, deletedOidcTrusts: 0 } },
      ]);
    });

    it('answers 404 for a member id that is not in the org, whether or not the user exists', async () => {
      const { org, owner } = await team();
      for (const id of [randomUUID(), people.outsider.id]) {
        const patch = await ctx.api.patch(`/v1/members/${org.id}/${id}`, { role: 'viewer' }, { session: owner.session });
        const remove = await ctx.api.delete(`/v1/members/${org.id}/${id}`, { session: owner.session });
        expect([patch.status, patch.body.code, remove.status, remove.body.code]).toEqual([404, 'not_found', 404, 'not_found']);
      }
    });
  });

  it('answers 400 validation_failed naming the parameter when an id is not a UUID', async () => {
    const { org, owner } = await team();
    const cases = [
      { res: await ctx.api.get('/v1/members/not-a-uuid', { session: owner.session }), field: 'orgId' },
      { res: await ctx.api.delete('/v1/orgs/not-a-uuid', { session: owner.session }), field: 'orgId' },
      { res: await ctx.api.post('/v1/members/not-a-uuid/invite', { email: 'x@example.com', role: 'viewer' }, { session: owner.session }), field: 'orgId' },
      { res: await ctx.api.patch(`/v1/members/${org.id}/not-a-uuid`, { role: 'viewer' }, { session: owner.session }), field: 'id' },
      { res: await ctx.api.delete(`/v1/members/${org.id}/not-a-uuid`, { session: owner.session }), field: 'id' },
    ];
    for (const { res, field } of cases) {
      expect([res.status, res.body.code]).toEqual([400, 'validation_failed']);
      expect(res.body.errors).toEqual([expect.objectContaining({ field })]);
    }
  });

  it('answers a non-member 403 alike for an org that exists and one that does not', async () => {
    const { org } = await team();
    const missing = randomUUID();
    const existing = await listMembers(org, people.outsider);
    const absent = await ctx.api.get(`/v1/members/${missing}`, { session: people.outsider.session });
    expect([existing.status, absent.status]).toEqual([403, 403]);
    expect(absent.body.message.replace(missing, org.id)).toBe(existing.body.message);
  });

  describe('deleting an org', () => {
    it('removes memberships, invitations and org-scoped tokens, and former members get 403', async () => {
      const { org, owner, admin, developer } = await team();
      const pending = await invite(org, owner, people.outsider.email, 'viewer');
      const ownerScoped = await createToken(ctx.api, owner, { access: 'read_write', orgId: org.id });
      const adminScoped = await createToken(ctx.api, admin, { access: 'read', orgId: org.id });
      const ownerUnscoped = await createToken(ctx.api, owner, { access: 'read' });

      const res = await ctx.api.delete(`/v1/orgs/${org.id}`, { session: owner.session });
      expect(res.status).toBe(204);

      const { rows } = await ctx.db.query(
        `SELECT (SELECT count(*) FROM orgs WHERE id = $1 AND deleted_at IS NULL)::int AS orgs,
                (SELECT count(*) FROM memberships WHERE org_id = $1)::int AS memberships,
                (SELECT count(*) FROM org_invites WHERE org_id = $1)::int AS invites,
                (SELECT count(*) FROM api_tokens WHERE org_id = $1 OR id = ANY ($2::uuid[]))::int AS scoped_tokens,
                (SELECT count(*) FROM api_tokens WHERE id = $3)::int AS unscoped_tokens`,
        [org.id, [ownerScoped.id, adminScoped.id], ownerUnscoped.id],
      );
      expect(rows[0]).toEqual({ orgs: 0, memberships: 0, invites: 0, scoped_tokens: 0, unscoped_tokens: 1 });

      for (const former of [owner, admin, developer]) {
        const list = await listMembers(org, former);
        expect([list.status, list.body.code]).toEqual([403, 'forbidden']);
      }
      expect((await ctx.api.get('/v1/auth/me', { token: ownerScoped.token })).status).toBe(401);
      const me = await ctx.api.get('/v1/auth/me', { token: ownerUnscoped.token });
      expect(me.status).toBe(200);
      expect(me.body.orgs.map((o: { id: string }) => o.id)).not.toContain(org.id);
      expect((await accept(pending.body.token, people.outsider)).status).toBe(404);

      const audit = await ctx.db.query(`SELECT actor_user_id, org_id, metadata FROM audit_events WHERE action = 'org.deleted' AND metadata->>'orgId' = $1`, [
        org.id,
      ]);
      expect(audit.rows).toEqual([{ actor_user_id: owner.id, org_id: null, metadata: { orgId: org.id, slug: org.slug } }]);
    });

    it('is refused to an admin (403), and the org stays', async () => {
      const { org, admin, owner } = await team();
      const res = await ctx.api.delete(`/v1/orgs/${org.id}`, { session: admin.session });
      expect(res.status).toBe(403);
      expect((await listMembers(org, owner)).status).toBe(200);
    });
  });
});
