import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP } from 'node:net';
import { checkAddress, checkHostName, hostOf, RefusedTargetError } from './ssrf.js';

/** The `all: true` form of dns.lookup. */
export type AddressLookup = (
  hostname: string,
  options: LookupOptions & { all: true },
  callback: (error: NodeJS.ErrnoException | null, addresses: LookupAddress[]) => void,
) => void;

type LookupCallback = (error: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** dns.lookup, refusing the connection when any address of the name is not allowed. */
export function guardedLookup(allowPrivate: boolean, lookup: AddressLookup) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback): void => {
    lookup(hostname, { ...options, all: true, verbatim: true }, (error, addresses) => {
      if (error) return callback(error, []);
      try {
        if (!addresses.length) throw new RefusedTargetError(`${hostname} does not resolve`, 'unresolvable');
        for (const { address } of addresses) checkAddress(hostname, address, allowPrivate);
      } catch (refusal) {
        return callback(refusal as NodeJS.ErrnoException, []);
      }
      if (options.all) callback(null, addresses);
      else callback(null, addresses[0].address, addresses[0].family);
    });
  };
}

/**
 * The checks of an outgoing URL that need no DNS: the scheme (https; http too with `allowPrivate`),
 * address literals, and names refused by name. Its addresses are checked by `guardedLookup`.
 */
export function preflightUrl(raw: string, allowPrivate: boolean): URL {
  const url = new URL(raw);
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) {
    throw new RefusedTargetError('url must use https', 'scheme');
  }
  if (url.username || url.password) throw new RefusedTargetError('url must not contain a user name or password', 'credentials');
  const host = hostOf(url);
  if (isIP(host)) checkAddress(host, host, allowPrivate);
  else checkHostName(host, allowPrivate);
  return url;
}
