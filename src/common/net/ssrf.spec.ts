import { describe, expect, it } from '@jest/globals';
import { checkWebhookUrl, classifyAddress, classifyHostname, isRefused, RefusedTargetError, type Resolver } from './ssrf.js';

/** Pure classification: no address here is ever connected to, and no name is looked up for real. */
describe('SSRF classifier', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::127.0.0.1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['10.255.255.255', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.0.1', 'private'],
    ['fc00::1', 'private'],
    ['fd12:3456:789a::1', 'private'],
    ['fec0::1', 'private'],
    ['::ffff:10.1.2.3', 'private'],
    ['64:ff9b::a00:1', 'private'], // NAT64 of 10.0.0.1
    ['2002:c0a8:0101::1', 'private'], // 6to4 of 192.168.1.1
    ['169.254.0.1', 'link-local'],
    ['169.254.255.255', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'link-local'],
    ['febf::1', 'link-local'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['fd00:ec2::254', 'metadata'],
    ['::ffff:169.254.169.254', 'metadata'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['100.64.0.1', 'cgnat'],
    ['100.127.255.255', 'cgnat'],
    ['192.0.2.10', 'reserved'],
    ['198.51.100.1', 'reserved'],
    ['203.0.113.9', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['2001:db8::1', 'reserved'],
    ['2001::1', 'reserved'], // Teredo
    ['100::1', 'reserved'],
    ['4000::1', 'reserved'], // outside global unicast 2000::/3
    ['not-an-address', 'reserved'],
  ])('classifies %s as %s', (address, reason) => {
    expect(classifyAddress(address)).toBe(reason);
  });

  it.each([
    '1.1.1.1',
    '8.8.8.8',
    '172.15.255.255', // just below 172.16/12
    '172.32.0.1', // just above
    '100.63.255.255', // just below CGNAT
    '100.128.0.1',
    '169.253.255.255',
    '192.167.255.255',
    '223.255.255.255',
    '2606:4700:4700::1111',
    '2a00:1450:4001:80b::200e',
    '::ffff:8.8.8.8',
    '2002:0808:0808::1', // 6to4 of 8.8.8.8
    '[2606:4700:4700::1111]',
  ])('lets the public address %s through', (address) => {
    expect(classifyAddress(address)).toBeNull();
  });

  it.each([
    ['localhost', 'loopback'],
    ['LOCALHOST.', 'loopback'],
    ['app.localhost', 'loopback'],
    ['metadata.google.internal', 'metadata'],
    ['metadata', 'metadata'],
    ['intranet', 'special-use-name'],
    ['printer.local', 'special-use-name'],
    ['db.internal', 'special-use-name'],
    ['router.home.arpa', 'special-use-name'],
    ['x.test', 'special-use-name'],
    ['x.invalid', 'special-use-name'],
    ['hooks.example.com', null],
    ['example.org', null],
  ])('classifies the host name %s as %s', (name, reason) => {
    expect(classifyHostname(name)).toBe(reason);
  });

  it('lets WEBHOOK_ALLOW_PRIVATE lift every refusal but the metadata endpoints', () => {
    for (const reason of ['loopback', 'private', 'link-local', 'unspecified', 'multicast', 'cgnat', 'reserved', 'special-use-name'] as const) {
      expect(isRefused(reason, false)).toBe(true);
      expect(isRefused(reason, true)).toBe(false);
    }
    expect(isRefused('metadata', true)).toBe(true);
    expect(isRefused(null, false)).toBe(false);
  });
});

describe('checkWebhookUrl', () => {
  /** A DNS answering from a table; it fails the test if asked about any other name. */
  const dns =
    (table: Record<string, string[]>): Resolver =>
    async (name) => {
      if (!table[name]) throw Object.assign(new Error(`ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
      return table[name].map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
    };
  const refusal = async (url: string, resolver: Resolver, allowPrivate = false) => {
    const error = await checkWebhookUrl(url, allowPrivate, resolver).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(RefusedTargetError);
    return (error as RefusedTargetError).message;
  };

  it('accepts an https URL whose host resolves to public addresses only', async () => {
    const url = await checkWebhookUrl(
      'https://hooks.example.com/secr?x=1',
      false,
      dns({ 'hooks.example.com': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'] }),
    );
    expect(url.href).toBe('https://hooks.example.com/secr?x=1');
  });

  it('refuses a name when any address it resolves to is not public, naming the address but not the path', async () => {
    const resolver = dns({ 'a.example.com': ['93.184.215.14', '10.0.0.5'], 'b.example.com': ['fd00:ec2::254'] });
    expect(await refusal('https://a.example.com/secret-path-token', resolver)).toBe('a.example.com resolves to a private network address (10.0.0.5)');
    expect(await refusal('https://b.example.com/', resolver)).toBe('b.example.com resolves to a cloud metadata endpoint (fd00:ec2::254)');
    expect(await refusal('https://b.example.com/', resolver, true)).toMatch(/cloud metadata endpoint/);
  });

  it('refuses a name that does not resolve', async () => {
    expect(await refusal('https://nowhere.example.com/', dns({}))).toBe('nowhere.example.com does not resolve');
  });

  it('refuses other schemes, credentials and garbage before looking anything up', async () => {
    const never: Resolver = async () => {
      throw new Error('must not resolve');
    };
    expect(await refusal('http://hooks.example.com/', never)).toBe('url must use https');
    expect(await refusal('ftp://hooks.example.com/', never, true)).toBe('url must use https or http');
    expect(await refusal('https://u:p@hooks.example.com/', never)).toBe('url must not contain a user name or password');
    expect(await refusal('hooks.example.com/path', never)).toBe('url must be an absolute https:// URL');
    expect(await refusal('https://0x7f.1/', never)).toMatch(/loopback/); // 127.0.0.1 in hex shorthand
  });

  it('accepts loopback and http with WEBHOOK_ALLOW_PRIVATE=true (development and tests)', async () => {
    const resolver = dns({ localhost: ['127.0.0.1'] });
    expect((await checkWebhookUrl('http://127.0.0.1:8080/hook', true, resolver)).host).toBe('127.0.0.1:8080');
    expect((await checkWebhookUrl('http://localhost:8080/hook', true, resolver)).host).toBe('localhost:8080');
  });
});
