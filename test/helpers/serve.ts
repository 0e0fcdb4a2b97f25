// Helpers for the server and end-to-end tests: `textdream serve` as a child process, contract calls over HTTP,
// and a small server-sent-events reader (fetch streaming; Node has no EventSource).
import { spawn, type ChildProcess } from 'node:child_process';
import { BIN, cleanEnv } from './cli.js';

export interface ServeProcess {
  child: ChildProcess;
  url: string;
  /** Everything the process wrote on stderr so far. */
  stderr(): string;
  /** SIGTERM and wait for exit; resolves with the exit code. */
  stop(): Promise<number | null>;
}

/** Start `textdream serve ...args` and wait for its "listening on" line. */
export function startServe(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<ServeProcess> {
  const child = spawn(process.execPath, [BIN, 'serve', ...args], { env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`serve did not start in ${timeoutMs} ms\nstdout: ${out}\nstderr: ${err}`));
    }, timeoutMs);
    const early = (code: number | null) => {
      clearTimeout(timer);
      reject(new Error(`serve exited with ${code} before listening\nstdout: ${out}\nstderr: ${err}`));
    };
    child.once('exit', early);
    child.stdout!.setEncoding('utf8').on('data', (d: string) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        child.off('exit', early);
        resolve({
          child,
          url: m[1],
          stderr: () => err,
          stop: async () => {
            if (child.exitCode === null) child.kill('SIGTERM');
            return exited;
          },
        });
      }
    });
  });
}

/** POST /api/<channel> with a JSON body; the parsed envelope and the HTTP status. */
export async function call(base: string, channel: string, req?: unknown, headers: Record<string, string> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(new URL(`/api/${channel}`, base), {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(req ?? null),
  });
  return { status: res.status, body: await res.json() };
}

/** The result of a call, or a thrown Error named like the envelope's error. */
export async function invoke<T = any>(base: string, channel: string, req?: unknown, headers: Record<string, string> = {}): Promise<T> {
  const { body } = await call(base, channel, req, headers);
  if ('error' in body) {
    const e = new Error(body.error.message);
    e.name = body.error.name;
    throw e;
  }
  return body.result as T;
}

export interface SseEvent {
  id: number | null;
  event: string;
  data: any;
}

/** An open SSE connection collecting events; `waitFor` resolves when a predicate over all events holds. */
export class SseReader {
  readonly events: SseEvent[] = [];
  private readonly controller = new AbortController();
  private waiters: { test: (events: SseEvent[]) => boolean; resolve: () => void }[] = [];
  readonly done: Promise<void>;
  status = 0;

  constructor(url: string, headers: Record<string, string> = {}) {
    this.done = this.read(url, headers).catch(() => undefined);
  }

  private async read(url: string, headers: Record<string, string>): Promise<void> {
    const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: this.controller.signal });
    this.status = res.status;
    this.notify();
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buffer = '';
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      buffer += decoder.decode(chunk, { stream: true });
      let at: number;
      while ((at = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, at);
        buffer = buffer.slice(at + 2);
        const fields: Record<string, string> = {};
        for (const line of block.split('\n')) {
          const m = /^([a-z]+): ?(.*)$/.exec(line);
          if (m) fields[m[1]] = m[2];
        }
        if (fields.event && fields.data !== undefined) {
          this.events.push({ id: fields.id ? Number(fields.id) : null, event: fields.event, data: JSON.parse(fields.data) });
          this.notify();
        }
      }
    }
  }

  private notify(): void {
    this.waiters = this.waiters.filter((w) => (w.test(this.events) ? (w.resolve(), false) : true));
  }

  waitFor(test: (events: SseEvent[]) => boolean, timeoutMs = 30_000, what = 'events'): Promise<void> {
    if (test(this.events)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`timed out waiting for ${what}; got ${this.events.map((e) => e.event).join(', ')}`)), timeoutMs);
      this.waiters.push({
        test,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      });
    });
  }

  named(event: string): SseEvent[] {
    return this.events.filter((e) => e.event === event);
  }

  close(): void {
    this.controller.abort();
  }
}
