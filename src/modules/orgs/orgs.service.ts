import { Injectable } from '@nestjs/common';
import { randomBytes } from 'node:crypto';
import { DataSource, EntityManager } from 'typeorm';
import type { Actor, RequestMeta } from '../auth/request-context.js';
import { slugify } from '../../common/text/slugify.js';
import { ForbiddenError } from '../../common/errors/domain-error.js';
import { isUniqueViolation } from '../../database/pg-errors.js';
import { AuditService } from '../audit/audit.service.js';
import { OrgsRepository, type OrgRow } from './orgs.repository.js';
import { CreateOrgDto, OrgDto } from './orgs.dto.js';
import { OrgSlugTakenError } from './orgs.errors.js';

interface NewOrg {
  name: string;
  slug?: string;
  ownerId: string;
  actor: Pick<Actor, 'userId' | 'token'>;
  meta: RequestMeta;
}

@Injectable()
export class OrgsService {
  constructor(
    private readonly db: DataSource,
    private readonly repo: OrgsRepository,
    private readonly audit: AuditService,
  ) {}

  async create(actor: Actor, dto: CreateOrgDto, meta: RequestMeta): Promise<OrgDto> {
    if (actor.token?.orgId) {
      throw new ForbiddenError('A token scoped to one organization cannot create organizations');
    }
    return this.db.transaction((em) => this.createWithOwner(em, { name: dto.name, slug: dto.slug, ownerId: actor.userId, actor, meta }));
  }

  /** Creates an org and makes `ownerId` its owner, in the caller's transaction. */
  async createWithOwner(em: EntityManager, input: NewOrg): Promise<OrgDto> {
    let slug = input.slug ?? (await this.freeSlug(em, input.name));
    let org: OrgRow | undefined;
    for (let attempt = 1; !org; attempt++) {
      try {
        // A savepoint, so a taken slug leaves the surrounding transaction usable for the error path.
        org = await em.transaction((inner) => this.repo.insert(inner, { name: input.name, slug }));
      } catch (error) {
        if (!isUniqueViolation(error, 'orgs_slug_key')) throw error;
        // A slug the caller chose is theirs to change. One made from the name was free when looked up and
        // taken since by a concurrent create (two sign-ups named alike): another suffix, a few times.
        if (input.slug || attempt >= 3) throw new OrgSlugTakenError(slug);
        slug = suffixed(slugify(input.name));
      }
    }
    await this.repo.addMember(em, org.id, input.ownerId, 'owner');
    await this.audit.record(em, {
      action: 'org.created',
      orgId: org.id,
      actor: input.actor,
      meta: input.meta,
      metadata: { slug, name: org.name },
    });
    return { id: org.id, slug: org.slug, name: org.name, role: 'owner', createdAt: org.createdAt };
  }

  async listForUser(userId: string): Promise<OrgDto[]> {
    return this.repo.orgsOf(userId);
  }

  private async freeSlug(em: EntityManager, name: string): Promise<string> {
    const base = slugify(name);
    if (!(await this.repo.slugTaken(em, base))) return base;
    return suffixed(base);
  }
}

const suffixed = (base: string): string => `${base.slice(0, 56)}-${randomBytes(3).toString('hex')}`;
