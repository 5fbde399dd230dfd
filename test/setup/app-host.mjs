// A process that runs test apps for the jest worker it serves: `npm test`'s global setup starts one
// per worker (see test/support/test-app.ts). Run by plain Node on the compiled code in dist/, so the
// server's modules are imported once per worker (about 1 s of CPU) instead of once per test file
// under jest's module system; each app still boots on its own database with its own settings.
//
// Protocol (JSON over HTTP on 127.0.0.1, port sent to the parent over IPC):
//   POST   /apps      { databaseUrl, env }  → 201 { id, url }   (env: the app's settings, as loadConfig reads them)
//   DELETE /apps/:id                       → 204 once app.close() has finished
//   GET    /apps/:id/handlers              → 200 [`METHOD /path/{param}`]: every handler Nest mapped in that app
//   POST   /apps/:id/call { provider, member, args } → 200 { result }: awaits `member` of the app's provider
//                                            of that class name (called with `args` when it is a method; a
//                                            { $date } argument is a Date), for a test that drives or waits
//                                            for a service (an outbox's idle(), a purge's step()) as app.get(…) would
//   GET    /openapi                        → 200 the OpenAPI document as `npm run openapi` renders it (no database)
//   POST   /process-env { env, ca? }        → 200 { previous }: sets (a null value: deletes) variables of this
//                                            process's environment, what a cloud SDK of an app reads, and adds
//                                            `ca` (PEM) to its trusted CAs; `previous` (the values replaced) undoes it
// The last two let a test file read what only the server's modules can tell without importing them.
// An app that fails to start answers 500 { message }: startTestContext throws it.
import 'reflect-metadata';
import http from 'node:http';
import tls from 'node:tls';

let modules;
/** Imported on the first app, so a host whose worker runs no e2e file costs only Node's start. */
const load = () =>
  (modules ??= Promise.all([import('../../dist/src/app.factory.js'), import('../../dist/src/config/config.js')]).then(([factory, config]) => ({
    createApp: factory.createApp,
    loadConfig: config.loadConfig,
  })));

const apps = new Map();
let nextId = 1;

async function startApp({ databaseUrl, env }) {
  const { createApp, loadConfig } = await load();
  const app = await createApp(loadConfig(env), databaseUrl);
  try {
    await app.listen({ port: 0, host: '127.0.0.1' });
  } catch (error) {
    await app.close().catch(() => undefined);
    throw error;
  }
  const { port } = app.getHttpServer().address();
  const id = String(nextId++);
  apps.set(id, app);
  return { id, url: `http://127.0.0.1:${port}` };
}

/** Every handler of every controller of an app, as `METHOD /path/{param}` without the global prefix. */
async function handlersOf(app) {
  const [{ RequestMethod }, { METHOD_METADATA, PATH_METADATA }, { MetadataScanner, ModulesContainer }] = await Promise.all([
    import('@nestjs/common'),
    import('@nestjs/common/constants.js'),
    import('@nestjs/core'),
  ]);
  const scanner = new MetadataScanner();
  const routes = [];
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype;
      if (!controller) continue;
      const bases = [].concat(Reflect.getMetadata(PATH_METADATA, controller) ?? '/');
      for (const name of scanner.getAllMethodNames(controller.prototype)) {
        const handler = controller.prototype[name];
        const paths = Reflect.getMetadata(PATH_METADATA, handler);
        if (paths === undefined) continue;
        const method = RequestMethod[Reflect.getMetadata(METHOD_METADATA, handler)];
        for (const base of bases) {
          for (const path of [].concat(paths)) {
            const full = `/${[base, path]
              .map((p) => p.replace(/^\/+|\/+$/g, ''))
              .filter(Boolean)
              .join('/')}`;
            routes.push(`${method} ${full.replace(/:(\w+)/g, '{$1}')}`);
          }
        }
      }
    }
  }
  return routes;
}

/** The instance of the provider whose class is named `name`, as `app.get(Class)` returns it. */
async function providerOf(app, name) {
  const { ModulesContainer } = await import('@nestjs/core');
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.providers.values()) {
      const token = typeof wrapper.token === 'function' ? wrapper.token.name : wrapper.token;
      if (token === name && wrapper.instance) return wrapper.instance;
    }
  }
  throw new Error(`no provider ${name}`);
}

async function callProvider(app, { provider, member, args = [] }) {
  const target = await providerOf(app, provider);
  const revived = args.map((arg) => (arg && typeof arg === 'object' && typeof arg.$date === 'string' ? new Date(arg.$date) : arg));
  const value = target[member];
  const result = typeof value === 'function' ? await value.apply(target, revived) : await value;
  return { result: result ?? null };
}

let openApi;
/** Rendered once per host: the document depends on the code only. */
const renderOpenApi = () => (openApi ??= import('../../dist/src/openapi/write-openapi.js').then(({ renderOpenApi: render }) => render()));

/**
 * The environment a cloud SDK reads (credentials, metadata look-ups), as the jest worker of an in-process
 * app would set it on its own process: this host serves one worker, which runs one test file at a time.
 */
function setProcessEnv({ env = {}, ca }) {
  const previous = {};
  for (const [name, value] of Object.entries(env)) {
    previous[name] = process.env[name] ?? null;
    if (value === null) delete process.env[name];
    else process.env[name] = String(value);
  }
  if (ca) {
    const trusted = tls.getCACertificates('default');
    if (!trusted.includes(ca)) tls.setDefaultCACertificates([...trusted, ca]);
  }
  return { previous };
}

async function closeApp(id) {
  const app = apps.get(id);
  if (!app) return false;
  apps.delete(id);
  await app.close();
  return true;
}

function readJson(req) {
  return new Promise((resolve, reject) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk) => (body += chunk));
    req.on('end', () => {
      try {
        resolve(body ? JSON.parse(body) : {});
      } catch (error) {
        reject(error);
      }
    });
    req.on('error', reject);
  });
}

const server = http.createServer(async (req, res) => {
  const answer = (status, body) => {
    // No keep-alive: a worker's idle connection to its host would outlive the worker's last test file.
    res.writeHead(status, { connection: 'close', ...(body === undefined ? {} : { 'content-type': 'application/json' }) });
    res.end(body === undefined ? undefined : JSON.stringify(body));
  };
  try {
    if (req.method === 'POST' && req.url === '/apps') return answer(201, await startApp(await readJson(req)));
    if (req.method === 'POST' && req.url === '/process-env') return answer(200, setProcessEnv(await readJson(req)));
    if (req.method === 'GET' && req.url === '/openapi') return answer(200, JSON.parse(await renderOpenApi()));
    const handlers = /^\/apps\/(\d+)\/handlers$/.exec(req.url ?? '');
    if (req.method === 'GET' && handlers)
      return apps.has(handlers[1]) ? answer(200, await handlersOf(apps.get(handlers[1]))) : answer(404, { message: `no app ${handlers[1]}` });
    const call = /^\/apps\/(\d+)\/call$/.exec(req.url ?? '');
    if (req.method === 'POST' && call)
      return apps.has(call[1]) ? answer(200, await callProvider(apps.get(call[1]), await readJson(req))) : answer(404, { message: `no app ${call[1]}` });
    const match = /^\/apps\/(\d+)$/.exec(req.url ?? '');
    if (req.method === 'DELETE' && match) return (await closeApp(match[1])) ? answer(204) : answer(404, { message: `no app ${match[1]}` });
    answer(404, { message: `${req.method} ${req.url}: unknown` });
  } catch (error) {
    answer(500, { message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  }
});
// Requests to the host wait for boots and shutdowns: no socket time-out.
server.requestTimeout = 0;
server.headersTimeout = 0;

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  // Apps a test file left open (a file that failed in its set-up): closed like the file would have.
  await Promise.allSettled([...apps.keys()].map(closeApp));
  server.close();
  process.exit(0);
}
process.on('SIGTERM', () => void stop());
// A deprecation the server raises fails the run (global-teardown.mjs): pg's "already executing a query",
// for one, becomes an error in pg 9. Node still prints it (with its stack: --trace-deprecation).
process.on('warning', (warning) => {
  if (warning.name === 'DeprecationWarning') process.send?.({ deprecation: warning.stack ?? String(warning) });
});
process.on('disconnect', () => void stop()); // the jest process went away without a teardown

server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
