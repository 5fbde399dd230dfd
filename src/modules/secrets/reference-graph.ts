import { canonicalEnvironment } from '../projects/environments.js';
import type { EnvironmentRef } from '../projects/vault-access.service.js';
import { describeReference, MAX_REFERENCE_DEPTH, mayReference, referencesIn, substitute, type SecretReference } from './secret-references.js';

export interface GraphNode {
  env: EnvironmentRef;
  key: string;
  /** Null: the key is not set. */
  value: string | null;
  version: number | null;
  updatedAt: string | null;
}

export type Loaded = Map<string, { value: string; version: number; updatedAt: string }>;

export interface GraphSources {
  home: EnvironmentRef;
  /** The project's environments by slug (loaded once, and only when a reference names another environment). */
  environments: () => Promise<Map<string, EnvironmentRef>>;
  load: (env: EnvironmentRef, keys: string[]) => Promise<Loaded>;
  /** May throw (the reader may not read `env`); `chain` names the reference that reached it. */
  admit?: (env: EnvironmentRef, chain: string) => void;
}

/** A chain of references that cannot be followed: `chain` names it from the value read, `reason` says why. */
export class ChainError extends Error {
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
export class ReferenceGraph {
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
          if (this.lenient) {
            // Still a hop: the key may be set later, by a write that cannot see this chain.
            if (height < 1) [height, deepest] = [1, [describeReference(ref)]];
            return '';
          }
          if (ref.fallback !== null) return ref.fallback;
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

export function nodeId(environmentId: string, key: string): string {
  return `${environmentId}/${key}`;
}
