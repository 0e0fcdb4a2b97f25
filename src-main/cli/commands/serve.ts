// `textdream serve`: the workbench in a browser. One engine (model, dreams, store) behind the typed contract
// over HTTP + server-sent events, and the built renderer as static files. Runs keep going when the browser
// goes away; Ctrl-C (or SIGTERM) stops them, records their end in the store, and exits.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createEngine } from '../../engine/service.js';
import { defaultModelDir, projectRoot } from '../../model/load.js';
import { checkBinding, ServeConfigError } from '../../server/auth.js';
import { startServer } from '../../server/http.js';
import { defaultDbPath, describeStore, openStore } from '../../store/open.js';
import { inRange, parseInteger } from '../args.js';
import { defineCommand, UsageError } from '../command.js';
import { settingsFromEnv } from '../../environment.js';

export default defineCommand({
  name: 'serve',
  summary: 'serve the workbench UI and its API over HTTP (127.0.0.1 by default; a token is required on other addresses)',
  usage: '[--port <n>] [--host <addr>] [--token <secret>] [--db <file>] [--model <dir|hub id>] [--static <dir>]',
  options: {
    port: { type: 'string', arg: '<n>', description: 'TCP port; 0 picks a free one (default 7878)' },
    host: { type: 'string', arg: '<addr>', description: 'address to listen on (default 127.0.0.1; any other needs --token)' },
    token: { type: 'string', arg: '<secret>', description: 'require this token (Bearer header or the cookie set by the printed URL); default TEXTDREAM_TOKEN' },
    db: { type: 'string', arg: '<file>', description: 'experiment store (SQLite file; `:memory:` keeps nothing); default TEXTDREAM_DB, else the per-user data folder' },
    static: { type: 'string', arg: '<dir>', description: 'built renderer to serve (default out/renderer; build it with `npm run build`)' },
  },
  async run(values, _positionals, io) {
    const port = inRange(parseInteger(values.port, '--port') ?? 7878, '--port', { min: 0, max: 65535 });
    const host = values.host ?? '127.0.0.1';
    if (host.trim() === '') throw new UsageError('--host is empty: give an address such as 127.0.0.1');
    const token = values.token ?? settingsFromEnv(io.env).token;
    try {
      checkBinding(host, token);
    } catch (e) {
      if (e instanceof ServeConfigError) throw new UsageError(e.message);
      throw e;
    }
    const staticDir = resolve(values.static ?? join(projectRoot(), 'out', 'renderer'));
    const dbPath = values.db ?? defaultDbPath(io.env);
    const spec = values.model ?? settingsFromEnv(io.env).model ?? (existsSync(join(defaultModelDir(), 'config.json')) ? defaultModelDir() : undefined);

    let store;
    try {
      store = openStore(dbPath, io.env);
    } catch (e) {
      throw new UsageError(`cannot open the experiment store ${dbPath}: ${e instanceof Error ? e.message : String(e)} (--db)`);
    }
    const engine = createEngine({ store, env: io.env, backend: values.backend });
    let server;
    try {
      server = await startServer({ engine, staticDir, host, port, token });
    } catch (e) {
      await engine.close();
      store.close();
      const err = e as NodeJS.ErrnoException;
      if (err.code === 'EADDRINUSE') throw new UsageError(`port ${port} on ${host} is in use: pick another with --port (0 picks a free one)`);
      if (err.code === 'EADDRNOTAVAIL' || err.code === 'ENOTFOUND') throw new UsageError(`cannot listen on ${host}: not an address of this machine (--host)`);
      throw e;
    }
    const open = token === undefined ? server.url : `${server.url}?token=${encodeURIComponent(token)}`;
    io.stdout(`textdream serve: listening on ${server.url}\n`);
    io.stdout(`open ${open}\n`);
    io.stderr(`experiment store: ${describeStore(store)}\n`);
    if (!existsSync(join(staticDir, 'index.html'))) io.stderr(`warning: no built renderer in ${staticDir}: run \`npm run build\` (the API works without it)\n`);

    // Load the model in the background: the page is usable (and shows progress) while it loads.
    if (spec !== undefined) {
      io.stderr(`loading model ${spec}\n`);
      engine.models.load(spec).then(
        (info) => io.stderr(`model ready: ${info.spec} (${info.nLayer} layers × ${info.dMlp} neurons, backend ${info.backend})\n`),
        (e: unknown) => io.stderr(`error: model ${spec} did not load: ${e instanceof Error ? e.message : String(e)} (pick another in the UI)\n`),
      );
    } else {
      io.stderr('no model loaded: the embedded default is not built yet; pick one in the UI or pass --model\n');
    }

    const signal = await new Promise<NodeJS.Signals>((resolveSignal) => {
      const on = (s: NodeJS.Signals) => {
        process.off('SIGINT', on);
        process.off('SIGTERM', on);
        resolveSignal(s);
      };
      process.on('SIGINT', on);
      process.on('SIGTERM', on);
    });
    io.stderr(`\n${signal}: stopping runs and closing the store\n`);
    await server.close();
    await engine.close();
    store.close();
    return 0;
  },
});
