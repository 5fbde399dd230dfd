import { lookup } from 'node:dns/promises';
import { isIP, isIPv4 } from 'node:net';

/**
 * The SSRF guard (DESIGN.md §4 spirit, issue 4 point 8): a webhook may only reach public unicast
 * addresses. Checked when a webhook is created or updated, and again for every delivery, on the
 * addresses the connection actually uses (DNS may have changed since).
 */

export type RefusalReason = 'loopback' | 'private' | 'link-local' | 'metadata' | 'unspecified' | 'multicast' | 'cgnat' | 'reserved' | 'special-use-name';

const DESCRIPTIONS: Readonly<Record<RefusalReason, string>> = {
  loopback: 'a loopback address',
  private: 'a private network address',
  'link-local': 'a link-local address',
  metadata: 'a cloud metadata endpoint',
  unspecified: 'an unspecified address',
  multicast: 'a multicast address',
  cgnat: 'a carrier-grade NAT (shared) address',
  reserved: 'a reserved or non-routable address',
  'special-use-name': 'a name that is not a public domain name',
};

export function describeRefusal(reason: RefusalReason): string {
  return DESCRIPTIONS[reason];
}

/**
 * WEBHOOK_ALLOW_PRIVATE lifts every refusal but one: nothing needs to send webhooks to a cloud
 * metadata endpoint, and it is the classic SSRF prize.
 */
export function isRefused(reason: RefusalReason | null, allowPrivate: boolean): reason is RefusalReason {
  return reason !== null && (reason === 'metadata' || !allowPrivate);
}

type Rule = readonly [reason: RefusalReason | 'embedded-ipv4', network: bigint, prefix: number];

const v4 = (cidr: string): [bigint, number] => {
  const [address, prefix] = cidr.split('/');
  return [ipv4ToBigInt(address), Number(prefix)];
};
const v6 = (cidr: string): [bigint, number] => {
  const [address, prefix] = cidr.split('/');
  return [ipv6ToBigInt(address), Number(prefix)];
};

/** First match wins: specific entries (metadata) come before the ranges that contain them. */
const IPV4_RULES: readonly Rule[] = (
  [
    ['unspecified', '0.0.0.0/8'],
    ['private', '10.0.0.0/8'],
    ['metadata', '100.100.100.200/32'], // Alibaba Cloud
    ['cgnat', '100.64.0.0/10'],
    ['loopback', '127.0.0.0/8'],
    ['metadata', '169.254.169.254/32'], // AWS, GCP, Azure, OpenStack…
    ['metadata', '169.254.170.2/32'], // AWS ECS task metadata
    ['link-local', '169.254.0.0/16'],
    ['private', '172.16.0.0/12'],
    ['reserved', '192.0.0.0/24'], // IETF protocol assignments
    ['reserved', '192.0.2.0/24'], // documentation
    ['reserved', '192.88.99.0/24'], // 6to4 relay anycast
    ['private', '192.168.0.0/16'],
    ['reserved', '198.18.0.0/15'], // benchmarking
    ['reserved', '198.51.100.0/24'], // documentation
    ['reserved', '203.0.113.0/24'], // documentation
    ['multicast', '224.0.0.0/4'],
    ['reserved', '240.0.0.0/4'], // future use, and the broadcast address
  ] as const
).map(([reason, cidr]) => [reason, ...v4(cidr)] as const);

const IPV6_RULES: readonly Rule[] = (
  [
    ['unspecified', '::/128'],
    ['loopback', '::1/128'],
    ['embedded-ipv4', '::ffff:0:0/96'], // IPv4-mapped
    ['embedded-ipv4', '64:ff9b::/96'], // NAT64
    ['embedded-ipv4', '::/96'], // IPv4-compatible (deprecated)
    ['private', '64:ff9b:1::/48'], // local-use NAT64
    ['reserved', '100::/64'], // discard-only
    ['reserved', '2001:db8::/32'], // documentation
    ['reserved', '2001::/23'], // IETF protocol assignments, Teredo among them
    ['reserved', '3fff::/20'], // documentation
    ['metadata', 'fd00:ec2::254/128'], // AWS
    ['private', 'fc00::/7'], // unique local
    ['link-local', 'fe80::/10'],
    ['private', 'fec0::/10'], // site-local (deprecated)
    ['multicast', 'ff00::/8'],
  ] as const
).map(([reason, cidr]) => [reason, ...v6(cidr)] as const);

const IPV6_GLOBAL_UNICAST = v6('2000::/3');
const IPV6_6TO4 = v6('2002::/16');

/** Why a connection to `address` (an IPv4 or IPv6 literal) is refused, or null for a public unicast address. */
export function classifyAddress(address: string): RefusalReason | null {
  const bare = address.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(bare);
  if (family === 4) return classifyIpv4(ipv4ToBigInt(bare));
  if (family === 6) return classifyIpv6(ipv6ToBigInt(bare));
  return 'reserved'; // not an address at all: nothing to connect to
}

function classifyIpv4(n: bigint): RefusalReason | null {
  for (const [reason, network, prefix] of IPV4_RULES) if (inNetwork(n, network, prefix, 32)) return reason as RefusalReason;
  return null;
}

function classifyIpv6(n: bigint): RefusalReason | null {
  for (const [reason, network, prefix] of IPV6_RULES) {
    if (!inNetwork(n, network, prefix, 128)) continue;
    return reason === 'embedded-ipv4' ? classifyIpv4(n & 0xffffffffn) : reason;
  }
  // 6to4 carries an IPv4 address in bits 16–48: it is as public as that address.
  if (inNetwork(n, ...IPV6_6TO4, 128)) return classifyIpv4((n >> 80n) & 0xffffffffn);
  return inNetwork(n, ...IPV6_GLOBAL_UNICAST, 128) ? null : 'reserved';
}

function inNetwork(n: bigint, network: bigint, prefix: number, bits: number): boolean {
  const shift = BigInt(bits - prefix);
  return n >> shift === network >> shift;
}

function ipv4ToBigInt(address: string): bigint {
  return address.split('.').reduce((acc, part) => (acc << 8n) | BigInt(Number(part)), 0n);
}

/** A valid IPv6 literal (net.isIPv6) as a 128-bit integer; `::` and a trailing dotted quad are expanded. */
function ipv6ToBigInt(address: string): bigint {
  let text = address;
  const dotted = text.match(/(\d+\.\d+\.\d+\.\d+)$/);
  if (dotted && isIPv4(dotted[1])) {
    const n = Number(ipv4ToBigInt(dotted[1]));
    text = `${text.slice(0, -dotted[1].length)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const headGroups = head ? head.split(':') : [];
  const tailGroups = tail ? tail.split(':') : [];
  const groups = tail === undefined ? headGroups : [...headGroups, ...Array(8 - headGroups.length - tailGroups.length).fill('0'), ...tailGroups];
  return groups.reduce((acc, group) => (acc << 16n) | BigInt(Number.parseInt(group || '0', 16)), 0n);
}

/** Names that are not on the public internet (RFC 6761 and friends), and metadata hosts by name. */
const METADATA_NAMES = new Set(['metadata', 'metadata.google.internal', 'metadata.goog', 'instance-data', 'instance-data.ec2.internal']);
const SPECIAL_USE_SUFFIXES = ['.local', '.localdomain', '.internal', '.intranet', '.lan', '.home.arpa', '.test', '.example', '.invalid', '.onion', '.arpa'];

/** Why a host *name* is refused before any DNS lookup, or null to go on and resolve it. */
export function classifyHostname(hostname: string): RefusalReason | null {
  const name = hostname.toLowerCase().replace(/\.$/, '');
  if (METADATA_NAMES.has(name)) return 'metadata';
  if (name === 'localhost' || name.endsWith('.localhost')) return 'loopback';
  if (!name.includes('.')) return 'special-use-name'; // a single label resolves through search domains: internal
  if (SPECIAL_USE_SUFFIXES.some((suffix) => name.endsWith(suffix))) return 'special-use-name';
  return null;
}

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to every address it has (what the connection may use). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

const RESOLVE_TIMEOUT_MS = 5_000;

export const systemResolver: Resolver = async (hostname) => {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(Object.assign(new Error(`DNS lookup of ${hostname} timed out`), { code: 'ETIMEOUT' })), RESOLVE_TIMEOUT_MS);
  });
  try {
    return await Promise.race([lookup(hostname, { all: true, verbatim: true }), timeout]);
  } finally {
    clearTimeout(timer);
  }
};

/** A URL, or a host it resolves to, that a webhook may not use; the message says why (never the path or query). */
export class RefusedTargetError extends Error {
  constructor(
    message: string,
    readonly reason: RefusalReason | 'scheme' | 'credentials' | 'malformed' | 'unresolvable',
  ) {
    super(message);
    this.name = 'RefusedTargetError';
  }
}

/** The host of a URL as a connection uses it: IPv6 literals without their brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '');
}

/** Refuses an address (one a host resolved to, or a literal) the policy does not allow. */
export function checkAddress(host: string, address: string, allowPrivate: boolean): void {
  const reason = classifyAddress(address);
  if (!isRefused(reason, allowPrivate)) return;
  const what = describeRefusal(reason);
  throw new RefusedTargetError(host === address ? `${host} is ${what}` : `${host} resolves to ${what} (${address})`, reason);
}

/**
 * Checks a webhook URL before it is stored: https (http only with WEBHOOK_ALLOW_PRIVATE), no
 * credentials, and a host whose every address is public. Returns the parsed URL.
 */
export async function checkWebhookUrl(raw: string, allowPrivate: boolean, resolve: Resolver = systemResolver): Promise<URL> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new RefusedTargetError('url must be an absolute https:// URL', 'malformed');
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) {
    throw new RefusedTargetError(allowPrivate ? 'url must use https or http' : 'url must use https', 'scheme');
  }
  if (url.username || url.password) throw new RefusedTargetError('url must not contain a user name or password', 'credentials');
  const host = hostOf(url);
  if (!host) throw new RefusedTargetError('url must name a host', 'malformed');
  await checkHost(host, allowPrivate, resolve);
  return url;
}

/** Refuses a host name the policy does not allow by the name alone (before any DNS lookup). */
export function checkHostName(host: string, allowPrivate: boolean): void {
  const reason = classifyHostname(host);
  if (isRefused(reason, allowPrivate)) throw new RefusedTargetError(`${host} is ${describeRefusal(reason)}`, reason);
}

/** Checks a host (a name or a literal) and, for a name, every address it resolves to. */
export async function checkHost(host: string, allowPrivate: boolean, resolve: Resolver = systemResolver): Promise<ResolvedAddress[]> {
  if (isIP(host)) {
    checkAddress(host, host, allowPrivate);
    return [{ address: host, family: isIP(host) }];
  }
  checkHostName(host, allowPrivate);
  let addresses: ResolvedAddress[];
  try {
    addresses = await resolve(host);
  } catch {
    throw new RefusedTargetError(`${host} does not resolve`, 'unresolvable');
  }
  if (!addresses.length) throw new RefusedTargetError(`${host} does not resolve`, 'unresolvable');
  // Every address: a name that resolves to one public and one private address is refused.
  for (const { address } of addresses) checkAddress(host, address, allowPrivate);
  return addresses;
}
