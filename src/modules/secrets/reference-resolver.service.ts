import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { DomainError } from '../../common/errors/domain-error.js';
import type { Actor } from '../auth/request-context.js';
import { canonicalEnvironment } from '../projects/environments.js';
import { ProjectsRepository } from '../projects/projects.repository.js';
import { assertEnvironmentAccess, type EnvironmentRef, type VaultTarget } from '../projects/vault-access.service.js';
import { SecretCipher } from './secret-cipher.service.js';
import { describeReference, MAX_REFERENCE_DEPTH, mayReference, referencesIn, substitute, type SecretReference } from './secret-references.js';
import { InvalidReferencesError, ReferenceForbiddenError, UnresolvedReferenceError } from './secrets.errors.js';
import { SecretsRepository, type CurrentSecretRow } from './secrets.repository.js';

/** A pull's values with their references resolved, and what the resolution read. */
export interface Resolution {
  values: string[];
  /** Each referenced value the resolution looked up beyond the pulled rows (found or not): the pull's ETag depends on them. */
  dependencies: string[];
  /** The referenced keys read, by environment: audited as reads in the pull's own audit row. */
  reads: Array<{ environment: string; keys: string[] }>;
}

interface GraphNode {
  env: EnvironmentRef;
  key: string;
  /** Null: the key is not set. */
  value: string | null;
  version: number | null;
  updatedAt: string | null;
}

type Loaded = Map<string, { value: string; version: number; updatedAt: string }>;

interface GraphSources {
  home: EnvironmentRef;
  /** The project's environments by slug (loaded once, and only when a reference names another environment). */
  environments: () => Promise<Map<string, EnvironmentRef>>;
  load: (env: EnvironmentRef, keys: string[]) => Promise<Loaded>;
  /** May throw (the reader may not read `env`); `chain` names the reference that reached it. */
  admit?: (env: EnvironmentRef, chain: string) => void;
}

class ChainError extends Error {
  constructor(
    readonly chain: string[],
    readonly reason: string,
  ) {
    super(reason);
  }
}

/**
 * The values reachable from some roots through references, fetched level by level (one query and one
 * decryption per environment and level, at most MAX_REFERENCE_DEPTH levels), then walked depth-first
 * to substitute, find cycles and measure depth.
 */
class ReferenceGraph {
  readonly nodes = new Map<string, GraphNode>();
  private readonly missingEnvs = new Set<string>();
  private environments: Map<string, EnvironmentRef> | undefined;
  private readonly resolved = new Map<string, { text: string; height: number; deepest: string[] }>();
  private readonly active = new Set<string>();
  readonly followed = new Set<string>();

  /** `lenient`: a missing key reads as empty instead of failing (the write-time check looks for cycles and depth only). */
  constructor(
    private readonly sources: GraphSources,
    private readonly lenient = false,
  ) {}

  seed(env: EnvironmentRef, key: string, value: string, version: number | null = null, updatedAt: string | null = null): string {
    const id = nodeId(env.id, key);
    this.nodes.set(id, { env, key, value, version, updatedAt });
    return id;
  }

  /** Fetches every value reachable from `roots` within the depth limit. */
  async expand(roots: Array<{ id: string; chain: string }>): Promise<void> {
    let frontier = roots;
    for (let level = 1; level <= MAX_REFERENCE_DEPTH && frontier.length; level++) {
      const wanted = new Map<string, { env: EnvironmentRef; keys: Map<string, string> }>();
      for (const { id, chain } of frontier) {
        const node = this.nodes.get(id)!;
        for (const ref of referencesIn(node.value ?? '')) {
          const env = await this.environmentOf(ref, node.env);
          if (!env || this.nodes.has(nodeId(env.id, ref.key))) continue;
          const entry = wanted.get(env.id) ?? { env, keys: new Map<string, string>() };
          wanted.set(env.id, entry);
          if (!entry.keys.has(ref.key)) entry.keys.set(ref.key, `${chain} -> ${describeReference(ref)}`);
        }
      }
      const next: Array<{ id: string; chain: string }> = [];
      for (const { env, keys } of wanted.values()) {
        if (env.id !== this.sources.home.id) this.sources.admit?.(env, keys.values().next().value!);
        const loaded = await this.sources.load(env, [...keys.keys()]);
        for (const [key, chain] of keys) {
          const found = loaded.get(key);
          const id = nodeId(env.id, key);
          this.nodes.set(id, { env, key, value: found?.value ?? null, version: found?.version ?? null, updatedAt: found?.updatedAt ?? null });
          if (found && mayReference(found.value)) next.push({ id, chain });
        }
      }
      frontier = next;
    }
  }

  /** The text of node `id` with its references substituted; throws a ChainError naming the chain of a cycle, a missing key or a chain too deep. */
  walk(id: string, display: string[]): { text: string; height: number; deepest: string[] } {
    const done = this.resolved.get(id);
    if (done) return done;
    if (this.active.has(id)) throw new ChainError(display, 'the references form a cycle');
    this.active.add(id);
    const node = this.nodes.get(id)!;
    let height = 0;
    let deepest: string[] = [];
    let text: string;
    try {
      text = substitute(node.value ?? '', (ref) => {
        const named = [...display, describeReference(ref)];
        // Not expanded (no environment looked up, or no node): beyond the levels fetched, so too deep.
        const tooDeep = () => new ChainError(named, `references nest deeper than ${MAX_REFERENCE_DEPTH}`);
        if (ref.env !== null && !this.environments) throw tooDeep();
        const env = this.environmentKnown(ref, node.env);
        const childId = env ? nodeId(env.id, ref.key) : null;
        const child = childId ? this.nodes.get(childId) : undefined;
        if (env && !child) throw tooDeep();
        if (!child || child.value === null) {
          if (ref.fallback !== null) return ref.fallback;
          if (this.lenient) return '';
          throw new ChainError(named, env ? `${env.slug} has no secret ${ref.key}` : `the project has no environment '${ref.env}'`);
        }
        this.followed.add(childId!);
        const r = this.walk(childId!, named);
        if (1 + r.height > height) {
          height = 1 + r.height;
          deepest = [describeReference(ref), ...r.deepest];
        }
        return r.text;
      });
    } finally {
      this.active.delete(id);
    }
    const result = { text, height, deepest };
    this.resolved.set(id, result);
    return result;
  }

  private async environmentOf(ref: SecretReference, from: EnvironmentRef): Promise<EnvironmentRef | undefined> {
    if (ref.env === null) return from;
    this.environments ??= await this.sources.environments();
    return this.environmentKnown(ref, from);
  }

  private environmentKnown(ref: SecretReference, from: EnvironmentRef): EnvironmentRef | undefined {
    if (ref.env === null) return from;
    const env = this.environments?.get(canonicalEnvironment(ref.env));
    if (!env) this.missingEnvs.add(ref.env);
    return env;
  }

  /** The lookups that found no environment (the ETag depends on them too: one may be created). */
  get missingEnvironments(): string[] {
    return [...this.missingEnvs].sort();
  }
}

function nodeId(environmentId: string, key: string): string {
  return `${environmentId}/${key}`;
}

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
   * Write-time check, in the writer's transaction: none of `values` (plaintext of the keys a change writes
   * to the target environment) may reach itself through references, or start a chain deeper than
   * MAX_REFERENCE_DEPTH. Missing keys are allowed (they may be set later; a pull names them). Writing a
   * reference to an environment the writer cannot read is allowed (a reader needs access to resolve it),
   * but then a refusal does not spell out the chain beyond its first hop.
   */
  async assertWritable(em: EntityManager, target: VaultTarget, actor: Actor, values: ReadonlyMap<string, string>): Promise<void> {
    const roots = [...values].filter(([, value]) => mayReference(value));
    if (!roots.length) return;
    // The check reads environments the writer may not read: then a refusal names only the first hop.
    let hidden = false;
    const graph = this.graph(
      target,
      em,
      (env) => {
        try {
          assertEnvironmentAccess(actor, target.org, env, 'read');
        } catch (error) {
          if (!(error instanceof DomainError)) throw error;
          hidden = true;
        }
      },
      true,
    );
    for (const [key, value] of values) graph.seed(target.environment, key, value);
    const rootIds = roots.map(([key]) => ({ id: nodeId(target.environment.id, key), chain: key }));
    await graph.expand(rootIds);
    const problems: Array<{ key: string; message: string }> = [];
    const named = (chain: string[]) => (hidden && chain.length > 2 ? [...chain.slice(0, 2), '…'] : chain).join(' -> ');
    for (const [key] of roots) {
      try {
        const r = graph.walk(nodeId(target.environment.id, key), [key]);
        if (r.height > MAX_REFERENCE_DEPTH)
          problems.push({ key, message: `${named([key, ...r.deepest])}: references nest deeper than ${MAX_REFERENCE_DEPTH}` });
      } catch (error) {
        if (!(error instanceof ChainError)) throw error;
        problems.push({ key, message: `${named(error.chain)}: ${error.reason}` });
      }
    }
    if (problems.length) throw new InvalidReferencesError(problems);
  }

  private graph(target: VaultTarget, em: EntityManager | null, admit?: GraphSources['admit'], lenient = false): ReferenceGraph {
    const projectId = target.project.id;
    return new ReferenceGraph(
      {
        home: target.environment,
        admit,
        environments: async () => {
          const rows = await this.projects.environmentsOf([projectId]);
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
