import { createApi, unwrap, type ApiOptions, type SecrApi } from './client.js';
import { followEvents, type ChangeStreamEvent, type EventsOptions } from './events.js';
import type { components } from './generated/api.js';

type Schemas = components['schemas'];
export type Secret = Schemas['SecretDto'];
export type SecretMeta = Schemas['SecretMetaDto'];
export type PaginationInfo = Schemas['PaginationDto'];
export type PullSecretsResult = Schemas['PullSecretsDto'];
export type ListKeysResult = Schemas['ListKeysDto'];
export type SetSecretResult = Schemas['SetSecretResultDto'];
export type BulkSetSecretsResult = Schemas['BulkSetResultDto'];
export type DeleteSecretResult = Schemas['DeleteSecretResultDto'];
export type PromoteResult = Schemas['PromoteResultDto'];
export type EnvironmentDiff = Schemas['EnvironmentDiffDto'];
export type RestoreResult = Schemas['RestoreResultDto'];
export type Template = Schemas['TemplateDto'];
export type TemplateValidation = Schemas['TemplateValidationDto'];

export interface SecrClientOptions extends ApiOptions {
  /** `secr_tok_…` or `secr_cli_…`. */
  token: string;
}

export interface ListOptions {
  limit?: number;
  offset?: number;
  /** Case-sensitive key prefix. */
  search?: string;
  /** Exactly these keys (at most 100): only they are read, and a pull is audited as reading them only. */
  keys?: string[];
}

export interface PullOptions extends ListOptions {
  /** The values as stored: references (`${KEY}`, `${env.KEY}`) left unresolved. By default the server resolves them. */
  raw?: boolean;
}

function toQuery({ keys, ...rest }: ListOptions) {
  return { ...rest, ...(keys ? { keys: keys.join(',') } : {}) };
}

function toPullQuery({ raw, ...rest }: PullOptions) {
  return { ...toQuery(rest), ...(raw ? { raw: 'true' as const } : {}) };
}

export interface PromoteOptions {
  fromEnv: string;
  toEnv: string;
  keys?: string[];
  overwrite?: boolean;
  dryRun?: boolean;
}

export interface DiffOptions {
  from: string;
  to: string;
  /** Only these keys. */
  keys?: string[];
  /** Also return both values (needs read on both environments; audited as a read of both). */
  showValues?: boolean;
}

export interface RestoreOptions {
  /** The past instant: a Date or an ISO 8601 string. */
  to: Date | string;
  keys?: string[];
  dryRun?: boolean;
}

/**
 * The secr SDK (the methods of the product's SDK reference, in camelCase). Every method throws
 * SecrApiError on failure. `api` is the full typed client for everything else.
 */
export class SecrClient {
  readonly api: SecrApi;
  readonly #options: SecrClientOptions;

  constructor(options: SecrClientOptions) {
    if (!options?.token) throw new TypeError('SecrClient needs a token');
    this.api = createApi(options);
    this.#options = { ...options };
  }

  /**
   * The environment's committed changes as they happen (key names and versions, never values):
   * `for await (const e of client.events(org, project, env, { signal })) …`. Reconnects by itself with
   * `Last-Event-ID`, so nothing is missed (a `resync` event says to pull again); throws SecrApiError on
   * 400/401/403/404; ends after a `closed` event, or quietly when `signal` aborts.
   */
  events(org: string, project: string, env: string, options: EventsOptions = {}): AsyncGenerator<ChangeStreamEvent, void, undefined> {
    return followEvents(this.#options, org, project, env, options);
  }

  /** Values with their references resolved by the server, unless `raw`. */
  async pullSecrets(org: string, project: string, env: string, options: PullOptions = {}): Promise<PullSecretsResult> {
    return unwrap(
      await this.api.GET('/v1/secrets/{orgSlug}/{project}/{env}', { params: { path: { orgSlug: org, project, env }, query: toPullQuery(options) } }),
    );
  }

  async listKeys(org: string, project: string, env: string, options: ListOptions = {}): Promise<ListKeysResult> {
    return unwrap(
      await this.api.GET('/v1/secrets/{orgSlug}/{project}/{env}/keys', { params: { path: { orgSlug: org, project, env }, query: toQuery(options) } }),
    );
  }

  /** `expectedVersion`: check-and-set (0: only if not set); a mismatch throws SecrApiError 409 `conflict`. */
  async setSecret(
    org: string,
    project: string,
    env: string,
    key: string,
    value: string,
    options: { description?: string; expectedVersion?: number } = {},
  ): Promise<SetSecretResult> {
    return unwrap(
      await this.api.PUT('/v1/secrets/{orgSlug}/{project}/{env}', {
        params: { path: { orgSlug: org, project, env } },
        body: {
          key,
          value,
          ...(options.description !== undefined ? { description: options.description } : {}),
          ...(options.expectedVersion !== undefined ? { expectedVersion: options.expectedVersion } : {}),
        },
      }),
    );
  }

  async bulkSetSecrets(
    org: string,
    project: string,
    env: string,
    secrets: Array<{ key: string; value: string; description?: string }>,
    options: { ifEnvironmentVersion?: number } = {},
  ): Promise<BulkSetSecretsResult> {
    return unwrap(
      await this.api.POST('/v1/secrets/{orgSlug}/{project}/{env}/bulk', {
        params: { path: { orgSlug: org, project, env } },
        body: { secrets, ...(options.ifEnvironmentVersion !== undefined ? { ifEnvironmentVersion: options.ifEnvironmentVersion } : {}) },
      }),
    );
  }

  async deleteSecret(org: string, project: string, env: string, key: string): Promise<DeleteSecretResult> {
    return unwrap(await this.api.DELETE('/v1/secrets/{orgSlug}/{project}/{env}/{key}', { params: { path: { orgSlug: org, project, env, key } } }));
  }

  async promoteSecrets(org: string, project: string, options: PromoteOptions): Promise<PromoteResult> {
    return unwrap(await this.api.POST('/v1/secrets/{orgSlug}/{project}/promote', { params: { path: { orgSlug: org, project } }, body: options }));
  }

  /** Compares two environments of a project (values compared on the server). */
  async diffEnvironments(org: string, project: string, options: DiffOptions): Promise<EnvironmentDiff> {
    const query = {
      from: options.from,
      to: options.to,
      ...(options.keys ? { keys: options.keys.join(',') } : {}),
      ...(options.showValues ? { showValues: 'true' as const } : {}),
    };
    return unwrap(await this.api.GET('/v1/secrets/{orgSlug}/{project}/diff', { params: { path: { orgSlug: org, project }, query } }));
  }

  /** Restores an environment (or some keys) to how it was at an instant; `dryRun` answers the plan only. */
  async restoreEnvironment(org: string, project: string, env: string, options: RestoreOptions): Promise<RestoreResult> {
    const to = options.to instanceof Date ? options.to.toISOString() : options.to;
    return unwrap(
      await this.api.POST('/v1/secrets/{orgSlug}/{project}/{env}/restore', {
        params: { path: { orgSlug: org, project, env } },
        body: { to, ...(options.keys ? { keys: options.keys } : {}), ...(options.dryRun !== undefined ? { dryRun: options.dryRun } : {}) },
      }),
    );
  }

  async listTemplates(org: string, project: string): Promise<Template[]> {
    const result = unwrap(await this.api.GET('/v1/templates/{orgSlug}/{project}', { params: { path: { orgSlug: org, project } } }));
    return result.templates;
  }

  async validateTemplate(org: string, project: string, env: string): Promise<TemplateValidation> {
    return unwrap(await this.api.GET('/v1/templates/{orgSlug}/{project}/validate/{env}', { params: { path: { orgSlug: org, project, env } } }));
  }
}
