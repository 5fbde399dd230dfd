export { createApi, DEFAULT_API_URL, DEFAULT_TIMEOUT_MS, unwrap, type ApiOptions, type SecrApi } from './client.js';
export { SecrApiError } from './errors.js';
export { isLoopbackHost, isRedirect, redirectError, warnInsecureApiUrl } from './transport.js';
export type { ChangeStreamEvent, ChangeType, EventsOptions } from './events.js';
export * from './sdk.js';
export type { components, paths } from './generated/api.js';
export { canonicalEnvironment, ENVIRONMENT_ALIASES, ROLES, TIERS, type Role, type Tier } from './vocabulary.js';
