import { Inject, Injectable, Logger } from '@nestjs/common';
import type { JSONWebKeySet } from 'jose';
import { CONFIG, type AppConfig } from '../../../config/config.js';
import { FetchFailedError, getJson } from '../../../common/net/bounded-get.js';

/** Discovery documents and key sets are small; a larger answer is refused. */
const MAX_DOCUMENT_BYTES = 256 * 1024;
const MAX_KEYS = 100;

interface CachedKeys {
  keys: JSONWebKeySet;
  fetchedAt: number;
}

/** The issuer's keys could not be had: unreachable, refused by the SSRF rules, or not a valid document. */
export class IssuerKeysError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IssuerKeysError';
  }
}

/**
 * The signing keys of OIDC issuers, found through discovery (`<issuer>/.well-known/openid-configuration`
 * → `jwks_uri`) and fetched under the webhooks' SSRF rules. Each instance caches an issuer's keys for
 * OIDC_JWKS_CACHE_SECONDS (public, short-lived data: DESIGN.md §3); a token signed by a key id the cache
 * does not know refetches them (the issuer rotated), at most once per OIDC_JWKS_REFETCH_SECONDS per
 * issuer, so tokens with made-up key ids cannot make secr hammer an issuer. Concurrent requests for
 * one issuer share one fetch.
 */
@Injectable()
export class OidcKeys {
  private readonly logger = new Logger(OidcKeys.name);
  private readonly cache = new Map<string, CachedKeys>();
  private readonly inFlight = new Map<string, Promise<CachedKeys>>();

  constructor(@Inject(CONFIG) private readonly config: AppConfig) {}

  /** The issuer's keys, from the cache while fresh. */
  async keys(issuer: string): Promise<JSONWebKeySet> {
    const cached = this.cache.get(issuer);
    if (cached && Date.now() - cached.fetchedAt < this.config.oidc.jwksCacheSeconds * 1000) return cached.keys;
    return (await this.fetch(issuer)).keys;
  }

  /**
   * After a token named a key id the cached keys lack: refetches unless the keys are younger than the
   * refetch interval. Returns the new keys, or null when it did not refetch.
   */
  async refresh(issuer: string): Promise<JSONWebKeySet | null> {
    const cached = this.cache.get(issuer);
    if (cached && Date.now() - cached.fetchedAt < this.config.oidc.jwksRefetchSeconds * 1000) return null;
    return (await this.fetch(issuer)).keys;
  }

  private fetch(issuer: string): Promise<CachedKeys> {
    let pending = this.inFlight.get(issuer);
    if (!pending) {
      pending = this.load(issuer).finally(() => this.inFlight.delete(issuer));
      this.inFlight.set(issuer, pending);
    }
    return pending;
  }

  private async load(issuer: string): Promise<CachedKeys> {
    const discovery = await this.get(`${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`, 'discovery document');
    if (!isRecord(discovery) || discovery.issuer !== issuer || typeof discovery.jwks_uri !== 'string') {
      throw new IssuerKeysError("the issuer's discovery document does not name this issuer and a jwks_uri");
    }
    const jwks = await this.get(discovery.jwks_uri, 'key set');
    if (!isRecord(jwks) || !Array.isArray(jwks.keys) || jwks.keys.length > MAX_KEYS || !jwks.keys.every(isRecord)) {
      throw new IssuerKeysError("the issuer's key set is not a JWK set");
    }
    const entry = { keys: { keys: jwks.keys } as JSONWebKeySet, fetchedAt: Date.now() };
    this.cache.set(issuer, entry);
    this.logger.log({ issuer, keys: jwks.keys.length }, 'Fetched the signing keys of an OIDC issuer');
    return entry;
  }

  private async get(url: string, what: string): Promise<unknown> {
    try {
      return await getJson({ url, allowPrivate: this.config.oidc.allowPrivate, timeoutMs: this.config.oidc.httpTimeoutMs, maxBytes: MAX_DOCUMENT_BYTES });
    } catch (error) {
      if (error instanceof FetchFailedError) throw new IssuerKeysError(`cannot fetch the issuer's ${what}: ${error.message}`);
      throw error;
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
