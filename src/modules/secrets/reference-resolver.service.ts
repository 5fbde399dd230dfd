import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DomainError } from '../../common/errors/domain-error.js';
import type { Actor } from '../auth/request-context.js';
import { TierForbiddenError } from '../projects/projects.errors.js';
import { ProjectsRepository } from '../projects/projects.repository.js';
import { assertEnvironmentAccess, canReadEnvironment, type EnvironmentRef, type VaultTarget } from '../projects/vault-access.service.js';
import { SecretCipher } from './secret-cipher.service.js';
import { ChainError, nodeId, ReferenceGraph, type GraphSources } from './reference-graph.js';
import { canonicalEnvironment } from '../projects/environments.js';
import { describeReference, MAX_REFERENCE_DEPTH, mayReference, referencesIn } from './secret-references.js';
import { InvalidReferencesError, ReferenceForbiddenError, UnresolvedReferenceError } from './secrets.errors.js';
import { SecretsRepository, type CurrentSecretRow, type NewVersion } from './secrets.repository.js';

/** A pull's values with their references resolved, and what the resolution read. */
export interface Resolution {
  values: string[];
  /** Each referenced value the resolution looked up beyond the pulled rows (found or not): the pull's ETag depends on them. */
  dependencies: string[];
  /** The referenced keys read, by environment: audited as reads in the pull's own audit row. */
  reads: Array<{ environment: string; keys: string[] }>;
}

const TOO_DEEP = `references nest deeper than ${MAX_REFERENCE_DEPTH}`;

/** ETags of pulls that held no reference (remembered, at most this many, to answer a 304 without decrypting). */
const PLAIN_ETAGS_MAX = 20_000;

const NO_DEPENDENCIES: readonly string[] = [];

/**
 * Resolves references at pull time (issue #19): the reader needs read access to every environment a
 * reference reaches; a missing required key, a cycle or a chain deeper than MAX_REFERENCE_DEPTH fails
 * the pull naming the chain. Also checks writes: a value whose references would form a cycle or nest
 * too deep is refused before it is stored.
 */
@Injectable()
export class ReferenceResolver {
  private readonly plainETags = new Set<string>();

  constructor(
    private readonly repo: SecretsRepository,
    private readonly cipher: SecretCipher,
    private readonly projects: ProjectsRepository,
  ) {}

  /**
   * True when a pull with this ETag (computed without dependencies) was seen to hold no reference: the
   * ETag hashes every row's key and version, and a version's text never changes, so a conditional pull
   * can then compare it without decrypting anything.
   */
  knownWithoutReferences(etag: string): boolean {
    return this.plainETags.has(etag);
  }

  /** Remembers the ETag of a pull whose values held no reference (see knownWithoutReferences). */
  rememberWithoutReferences(etag: string): void {
    if (this.plainETags.has(etag)) return;
    if (this.plainETags.size >= PLAIN_ETAGS_MAX) this.plainETags.clear();
    this.plainETags.add(etag);
  }

  /** Resolves the references of the pulled `values` (decrypted `rows`). Values without `${` cost one `includes`. */
  async resolve(target: VaultTarget, actor: Actor, rows: readonly CurrentSecretRow[], values: string[]): Promise<Resolution> {
    // The pull's hot path: values without `${` allocate nothing here.
    let first = 0;
    while (first < values.length && !mayReference(values[first])) first++;
    if (first === values.length) return { values, dependencies: NO_DEPENDENCIES as string[], reads: [] };
    const envId = target.environment.id;
    const roots: number[] = [];
    for (let i = first; i < values.length; i++) if (mayReference(values[i])) roots.push(i);

    const graph = this.graph(target, null, (env, chain) => {
      try {
        assertEnvironmentAccess(actor, target.org, env, 'read');
      } catch (error) {
        if (error instanceof DomainError) throw new ReferenceForbiddenError(chain, error.message);
        throw error;
      }
    });
    rows.forEach((r, i) => graph.seed(target.environment, r.key, values[i], r.version, r.updatedAt));
    await graph.expand(roots.map((i) => ({ id: nodeId(envId, rows[i].key), chain: rows[i].key })));

    const resolved = [...values];
    try {
      for (const i of roots) {
        const r = graph.walk(nodeId(envId, rows[i].key), [rows[i].key]);
        if (r.height > MAX_REFERENCE_DEPTH) throw new ChainError([rows[i].key, ...r.deepest], `references nest deeper than ${MAX_REFERENCE_DEPTH}`);
        resolved[i] = r.text;
      }
    } catch (error) {
      if (error instanceof ChainError) throw new UnresolvedReferenceError(error.chain.join(' -> '), error.reason);
      throw error;
    }

    const pulled = new Set(rows.map((r) => nodeId(envId, r.key)));
    const dependencies: string[] = [];
    const reads = new Map<string, Set<string>>();
    for (const [id, node] of graph.nodes) {
      if (!pulled.has(id)) dependencies.push(`${node.env.id}\n${node.key}\n${node.version ?? '-'}\n${node.updatedAt ?? '-'}`);
      if (graph.followed.has(id)) {
        const keys = reads.get(node.env.slug) ?? new Set<string>();
        reads.set(node.env.slug, keys.add(node.key));
      }
    }
    for (const env of graph.missingEnvironments) dependencies.push(`env:${env}`);
    return {
      values: resolved,
      dependencies: dependencies.sort(),
      reads: [...reads].map(([environment, keys]) => ({ environment, keys: [...keys].sort() })),
    };
  }

  /**
   * The write-time check of new versions (SecretWriter, and promotion's dry run): set and import pass
   * their plaintext; copies (promotion, rollback, restore) are decrypted here. Their references stay text.
   */
  async assertVersionsWritable(
    em: EntityManager,
    target: VaultTarget,
    actor: Actor,
    versions: readonly NewVersion[],
    plaintexts?: ReadonlyMap<string, string>,
  ): Promise<void> {
    const copies = versions.filter((v) => !plaintexts?.has(v.key));
    const decrypted = copies.length ? await this.cipher.decrypt(target.project.id, copies, em) : [];
    const values = new Map(versions.filter((v) => plaintexts?.has(v.key)).map((v) => [v.key, plaintexts!.get(v.key)!]));
    copies.forEach((v, i) => values.set(v.key, decrypted[i]));
    await this.assertWritable(em, target, actor, values);
  }

  /**
   * Write-time check, in the writer's transaction: none of `values` (plaintext of the keys a change writes
   * to the target environment) may reach itself through references, or start a chain deeper than
   * MAX_REFERENCE_DEPTH, nor lengthen a chain through it past that (chainsThrough). Missing keys are allowed (they may be set later; a pull names them).
   * A value may reference another environment only if the writer may read it (403 naming the key and
   * the reference): otherwise whoever pulls the written environment would receive, through the writer, a
   * value the writer could not copy there (DESIGN.md §4: promotion needs read on the source). A refusal
   * names a chain only up to its first hop into an environment the writer cannot read (the target
   * itself included), then `…`.
   */
  async assertWritable(em: EntityManager, target: VaultTarget, actor: Actor, values: ReadonlyMap<string, string>): Promise<void> {
    const roots = [...values].filter(([, value]) => mayReference(value));
    if (!roots.length) return;
    let loaded: Map<string, EnvironmentRef> | undefined;
    const environments = async () =>
      (loaded ??= new Map((await this.projects.environmentsOf([target.project.id], em)).map((e) => [e.slug, { id: e.id, slug: e.slug, tier: e.tier }])));
    if (roots.some(([, value]) => referencesIn(value).some((ref) => ref.env !== null)))
      this.assertReadableReferences(target, actor, roots, await environments());
    // Writes that store references check one at a time per project, each seeing what the last committed
    // (a dry run, outside any transaction, has nothing to hold the lock for).
    if (em.queryRunner?.isTransactionActive) await this.repo.lockReferenceGraph(em, target.project.id);
    const graph = this.graph(target, em, undefined, true);
    for (const [key, value] of values) graph.seed(target.environment, key, value);
    const rootIds = roots.map(([key]) => ({ id: nodeId(target.environment.id, key), chain: key }));
    await graph.expand(rootIds);
    const refused: Array<{ key: string; chain: string[]; reason: string }> = [];
    const below = new Map<string, { height: number; deepest: string[] }>();
    for (const [key] of roots) {
      try {
        const r = graph.walk(nodeId(target.environment.id, key), [key]);
        if (r.height > MAX_REFERENCE_DEPTH) refused.push({ key, chain: [key, ...r.deepest], reason: TOO_DEEP });
        else below.set(key, r);
      } catch (error) {
        if (!(error instanceof ChainError)) throw error;
        refused.push({ key, chain: error.chain, reason: error.reason });
      }
    }
    if (refused.length) {
      const visible = visibleHops(target, actor, await environments());
      throw new InvalidReferencesError(
        refused.map(({ key, chain, reason }) => ({ key, message: `${[chain[0], ...visible(target.environment, chain.slice(1))].join(' -> ')}: ${reason}` })),
      );
    }
    const problems = await this.chainsThrough(em, target, actor, values, below, await environments());
    if (problems.length) throw new InvalidReferencesError(problems);
  }

  /**
   * Each reference of a written value to another environment must name one the writer may read (tier
   * and token scope). One that does not exist yet must name one the writer could read whatever tier it is
   * created with (production, the default of a custom environment, and the token's environments): else
   * the environment, created later by an admin, would route its values through the writer's reference to
   * whatever pulls the written one. References to the target environment itself keep its values where
   * they are, so they are allowed.
   */
  private assertReadableReferences(
    target: VaultTarget,
    actor: Actor,
    roots: ReadonlyArray<readonly [string, string]>,
    environments: ReadonlyMap<string, EnvironmentRef>,
  ): void {
    for (const [key, value] of roots) {
      for (const ref of referencesIn(value)) {
        if (ref.env === null) continue;
        const slug = canonicalEnvironment(ref.env);
        const env = environments.get(slug);
        if (env?.id === target.environment.id) continue;
        const chain = `${key} -> ${describeReference(ref)}`;
        try {
          // Not there yet: checked as the most guarded environment it could become. A token refused by its
          // environments is answered as for one that exists (a narrowed token is not told which exist).
          assertEnvironmentAccess(actor, target.org, env ?? { id: '', slug, tier: 'production' }, 'read');
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          if (!env && error instanceof TierForbiddenError) {
            throw new ReferenceForbiddenError(
              chain,
              `the project has no environment '${ref.env}'; your role (${target.org.role}) may reference it only once it exists with a tier your role can read (it could be created as production)`,
            );
          }
          throw new ReferenceForbiddenError(chain, error.message);
        }
      }
    }
  }

  /**
   * The other half of the depth rule: values elsewhere in the project that reach a written key. A
   * chain from them through the key may not exceed MAX_REFERENCE_DEPTH either. Reads (and decrypts)
   * every current value of the project, so it runs only for writes whose values hold references.
   * `bySlug`: the project's environments, as assertWritable read them on the writer's connection.
   */
  private async chainsThrough(
    em: EntityManager,
    target: VaultTarget,
    actor: Actor,
    written: ReadonlyMap<string, string>,
    below: ReadonlyMap<string, { height: number; deepest: string[] }>,
    bySlug: ReadonlyMap<string, EnvironmentRef>,
  ): Promise<Array<{ key: string; message: string }>> {
    const projectId = target.project.id;
    const home = target.environment;
    const envs = [...bySlug.values()];
    const visible = visibleHops(target, actor, bySlug);
    // Who refers to each value: target node → (referring node, its name, the reference as written).
    const referrers = new Map<string, Array<{ id: string; name: string; label: string; readable: boolean }>>();
    for (const env of envs) {
      const rows = await this.repo.currentStored(em, env.id);
      const plain = rows.length ? await this.cipher.decrypt(projectId, rows, em) : [];
      const values = new Map(rows.map((r, i) => [r.key, plain[i]]));
      if (env.id === home.id) for (const [key, value] of written) values.set(key, value);
      const readable = canReadEnvironment(actor, target.org, env);
      for (const [key, value] of values) {
        for (const ref of referencesIn(value)) {
          const to = ref.env === null ? env : bySlug.get(canonicalEnvironment(ref.env));
          if (!to) continue;
          const id = nodeId(to.id, ref.key);
          const list = referrers.get(id) ?? [];
          referrers.set(id, list);
          list.push({ id: nodeId(env.id, key), name: env.id === home.id ? key : `${env.slug}.${key}`, label: describeReference(ref), readable });
        }
      }
    }
    // The longest chain of referrers ending at a node (a cycle elsewhere is not followed round).
    const above = new Map<string, { length: number; path: string[]; hidden: boolean }>();
    const onPath = new Set<string>();
    const longestAbove = (id: string, name: string): { length: number; path: string[]; hidden: boolean } => {
      const known = above.get(id);
      if (known) return known;
      onPath.add(id);
      let best = { length: 0, path: [name], hidden: false };
      for (const r of referrers.get(id) ?? []) {
        if (onPath.has(r.id)) continue;
        const up = longestAbove(r.id, r.name);
        if (up.length + 1 > best.length) best = { length: up.length + 1, path: [...up.path, r.label], hidden: up.hidden || !r.readable };
        if (best.length > MAX_REFERENCE_DEPTH) break;
      }
      onPath.delete(id);
      above.set(id, best);
      return best;
    };
    const problems: Array<{ key: string; message: string }> = [];
    for (const [key, down] of below) {
      const up = longestAbove(nodeId(home.id, key), key);
      if (up.length + down.height <= MAX_REFERENCE_DEPTH) continue;
      // The written key's own chain, cut after its first hop into an environment the writer cannot read.
      const downward = visible(home, down.deepest);
      const chain = up.hidden ? ['…', key, ...downward] : [...up.path, ...downward];
      problems.push({ key, message: `${chain.join(' -> ')}: ${TOO_DEEP}` });
    }
    return problems;
  }

  private graph(target: VaultTarget, em: EntityManager | null, admit?: GraphSources['admit'], lenient = false): ReferenceGraph {
    const projectId = target.project.id;
    return new ReferenceGraph(
      {
        home: target.environment,
        admit,
        environments: async () => {
          const rows = await this.projects.environmentsOf([projectId], em ?? undefined);
          return new Map(rows.map((e) => [e.slug, { id: e.id, slug: e.slug, tier: e.tier }]));
        },
        load: async (env, keys) => {
          const rows = em
            ? (await this.repo.currentStored(em, env.id, keys)).map((r) => ({ ...r, version: 0, updatedAt: '' }))
            : await this.repo.readCurrent(env.id, { keys: keys.join(',') }, true);
          const values = rows.length ? await this.cipher.decrypt(projectId, rows, em ?? undefined) : [];
          return new Map(rows.map((r, i) => [r.key, { value: values[i], version: r.version, updatedAt: r.updatedAt }]));
        },
      },
      lenient,
    );
  }
}

/**
 * The hops of a chain (references as named, `${KEY}` or `${env.KEY}`, starting in `from`) that a refusal
 * may show the writer: up to and including the first hop into an environment the writer cannot read,
 * then `…` (what that environment's values reference is not theirs to see).
 */
function visibleHops(target: VaultTarget, actor: Actor, environments: ReadonlyMap<string, EnvironmentRef>) {
  return (from: EnvironmentRef, hops: string[]): string[] => {
    let env: EnvironmentRef | undefined = from;
    for (let i = 0; i < hops.length; i++) {
      const [ref] = referencesIn(hops[i]);
      if (ref && ref.env !== null) env = environments.get(canonicalEnvironment(ref.env));
      // A hop into an environment that does not exist ends the chain (nothing lies beyond it).
      if (!env) return hops.slice(0, i + 1);
      if (!canReadEnvironment(actor, target.org, env)) return i + 1 < hops.length ? [...hops.slice(0, i + 1), '…'] : hops.slice(0, i + 1);
    }
    return hops;
  };
}
