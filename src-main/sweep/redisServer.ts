// A Redis server of our own for `sweep --redis auto`: Debian's `redis-server` on a loopback port, its data (an
// append-only file, so a restart resumes the queue) in a folder beside the experiment store. Loopback only: the
// queue carries no secrets, but nothing outside this machine has any business with it.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createServer, Socket } from 'node:net';

export class RedisServerError extends Error {
  override name = 'RedisServerError';
}

export interface RedisServer {
  url: string;
  port: number;
  dir: string;
  /** Stop it (SIGTERM: Redis flushes its append-only file first) and wait for the process to end. */
  stop(): Promise<void>;
  /** Stop, then start again on the same port with the same data (what a crash and a supervisor would do). */
  restart(): Promise<void>;
}

/** A free TCP port on the loopback interface (the OS picks; a race with another process is possible but rare). */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

/** Resolves once something accepts connections on 127.0.0.1:port, rejects after `timeoutMs`. */
function waitForPort(port: number, timeoutMs: number, exited: () => string | null): Promise<void> {
  const t0 = Date.now();
  return new Promise((resolve, reject) => {
    const attempt = () => {
      const why = exited();
      if (why) return reject(new RedisServerError(why));
      const s = new Socket();
      s.once('connect', () => {
        s.destroy();
        resolve();
      });
      s.once('error', () => {
        s.destroy();
        if (Date.now() - t0 > timeoutMs) reject(new RedisServerError(`redis-server did not accept connections on 127.0.0.1:${port} within ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
      s.connect(port, '127.0.0.1');
    };
    attempt();
  });
}

export interface StartRedisOptions {
  /** Where Redis keeps its append-only file. */
  dir: string;
  /** Default: a free loopback port. */
  port?: number;
  /** The executable (default `redis-server` on PATH). */
  bin?: string;
}

export async function startRedisServer(o: StartRedisOptions): Promise<RedisServer> {
  mkdirSync(o.dir, { recursive: true });
  const port = o.port ?? (await freeLoopbackPort());
  const bin = o.bin ?? 'redis-server';
  let child: ChildProcess | null = null;
  let log = '';

  const launch = async () => {
    log = '';
    let exitedWith: string | null = null;
    // No config file: every setting on the command line. appendfsync everysec loses at most a second of queue
    // operations in a crash; a job lost that way is still pending in the store and a rerun re-enqueues it.
    const args = ['--bind', '127.0.0.1', '--port', String(port), '--protected-mode', 'yes', '--dir', o.dir, '--appendonly', 'yes', '--appendfsync', 'everysec', '--save', '', '--daemonize', 'no', '--loglevel', 'warning'];
    const c = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    child = c;
    c.stdout!.setEncoding('utf8').on('data', (d: string) => (log = (log + d).slice(-4000)));
    c.stderr!.setEncoding('utf8').on('data', (d: string) => (log = (log + d).slice(-4000)));
    const spawnError = new Promise<Error | null>((resolve) => {
      c.once('error', (e) => resolve(e));
      c.once('spawn', () => resolve(null));
    });
    c.once('exit', (code, signal) => (exitedWith = `redis-server exited (${signal ?? `code ${code}`}) before it accepted connections: ${log.trim().split('\n').slice(-3).join(' | ') || 'no output'}`));
    const err = await spawnError;
    if (err) {
      child = null;
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      throw new RedisServerError(
        missing ? `--redis auto needs Redis: ${bin} is not installed (on Debian: apt-get install redis-server), or pass --redis redis://host:port of a running one` : `could not start ${bin}: ${err.message}`,
      );
    }
    try {
      await waitForPort(port, 15_000, () => exitedWith);
    } catch (e) {
      c.kill('SIGKILL');
      child = null;
      throw e;
    }
  };

  const stop = () =>
    new Promise<void>((resolve) => {
      const c = child;
      child = null;
      if (!c || c.exitCode !== null || c.signalCode !== null) return resolve();
      c.once('exit', () => resolve());
      c.kill('SIGTERM');
    });

  await launch();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir: o.dir,
    stop,
    async restart() {
      await stop();
      await launch();
    },
  };
}
