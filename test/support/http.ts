import http from 'node:http';

/** A small HTTP client over real sockets (fetch), with the credentials secr understands. */
export interface Credentials {
  /** Bearer token (secr_tok_… / secr_cli_…). */
  token?: string;
  /** Session cookie value; the CSRF header is added unless `csrf: false`. */
  session?: string;
  csrf?: boolean;
}

export interface RequestOptions extends Credentials {
  body?: unknown;
  /** Sent as is (for malformed-body tests); `body` is ignored. */
  rawBody?: string;
  contentType?: string;
  headers?: Record<string, string>;
}

export interface Response<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export class HttpClient {
  constructor(readonly baseUrl: string) {}

  async request<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<Response<T>> {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | undefined;
    if (options.rawBody !== undefined) {
      body = options.rawBody;
      headers['content-type'] = options.contentType ?? 'application/json';
    } else if (options.body !== undefined) {
      body = JSON.stringify(options.body);
      headers['content-type'] = options.contentType ?? 'application/json';
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.session) {
      headers.cookie = `__secr_session=${options.session}`;
      if (options.csrf !== false) headers['x-requested-with'] = 'secr';
    }
    const res = await fetch(this.baseUrl + path, { method, headers, body, redirect: 'manual' });
    const text = await res.text();
    let parsed: unknown = undefined;
    if (text && res.headers.get('content-type')?.includes('application/json')) parsed = JSON.parse(text);
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  /**
   * Like `request`, but sends `rawPath` byte for byte: fetch would resolve `..` and `%2E%2E` segments and
   * re-encode what it does not like, so a test of path-segment encodings could never reach the server.
   */
  async requestRawPath<T = any>(method: string, rawPath: string, options: RequestOptions = {}): Promise<Response<T>> {
    const headers: Record<string, string> = { ...options.headers };
    let body: string | undefined;
    if (options.rawBody !== undefined || options.body !== undefined) {
      body = options.rawBody ?? JSON.stringify(options.body);
      headers['content-type'] = options.contentType ?? 'application/json';
      headers['content-length'] = String(Buffer.byteLength(body));
    }
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.session) {
      headers.cookie = `__secr_session=${options.session}`;
      if (options.csrf !== false) headers['x-requested-with'] = 'secr';
    }
    const url = new URL(this.baseUrl);
    return new Promise((resolve, reject) => {
      const req = http.request({ host: url.hostname, port: url.port, method, path: rawPath, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          const responseHeaders = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            for (const v of Array.isArray(value) ? value : value === undefined ? [] : [value]) responseHeaders.append(name, v);
          }
          let parsed: unknown = undefined;
          if (text && responseHeaders.get('content-type')?.includes('application/json')) parsed = JSON.parse(text);
          resolve({ status: res.statusCode ?? 0, headers: responseHeaders, body: parsed as T, text });
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  get<T = any>(path: string, options?: RequestOptions) {
    return this.request<T>('GET', path, options);
  }
  post<T = any>(path: string, body?: unknown, options?: RequestOptions) {
    return this.request<T>('POST', path, { ...options, body });
  }
  put<T = any>(path: string, body?: unknown, options?: RequestOptions) {
    return this.request<T>('PUT', path, { ...options, body });
  }
  patch<T = any>(path: string, body?: unknown, options?: RequestOptions) {
    return this.request<T>('PATCH', path, { ...options, body });
  }
  delete<T = any>(path: string, options?: RequestOptions) {
    return this.request<T>('DELETE', path, options);
  }
}

/** The session cookie value from a Set-Cookie header. */
export function sessionFrom(res: Response): string {
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('__secr_session='));
  if (!cookie) throw new Error(`no session cookie in response (status ${res.status})`);
  return cookie.slice('__secr_session='.length).split(';')[0];
}
