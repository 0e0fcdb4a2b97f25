/**
 * A loopback stand-in for an OpenAI-compatible chat endpoint, `POST /v1/chat/completions`. Replies come from
 * `reply(call)` (deterministic, chosen by the test), except that queued replies are served first, one per
 * request: that is how tests inject faults (429 with Retry-After, 500, a slow reply, a malformed body).
 * `fakeInterpreter` is a deterministic "model" that reads our prompts: the explainer names the strongest
 * token, the simulator gives 10 to tokens equal to the quoted word in the explanation.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ChatCall {
  path: string;
  authorization?: string;
  /** The parsed request body (null when it was not JSON). */
  body: { model?: string; temperature?: number; max_tokens?: number; messages?: { role: string; content: string }[] } | null;
  raw: string;
}

export interface ReplySpec {
  status?: number;
  headers?: Record<string, string>;
  /** Sent as is (a malformed envelope); otherwise an OpenAI-shaped body is built from `content`. */
  body?: string;
  content?: string;
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
  /** Wait this long before answering. */
  delayMs?: number;
}

export interface OpenAIServer {
  /** Base URL including /v1. */
  url: string;
  calls: ChatCall[];
  /** Replies served before `reply` is asked, first in first out. */
  queue: ReplySpec[];
  reply: (call: ChatCall) => ReplySpec | string;
  stop(): Promise<void>;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let s = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (s += d));
    req.on('end', () => resolve(s));
    req.on('error', reject);
  });
}

export async function startOpenAIServer(reply: (call: ChatCall) => ReplySpec | string = () => 'ok'): Promise<OpenAIServer> {
  const timers = new Set<NodeJS.Timeout>();
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const raw = await readBody(req);
    let body: ChatCall['body'] = null;
    try {
      body = JSON.parse(raw) as ChatCall['body'];
    } catch {
      body = null;
    }
    const call: ChatCall = { path: new URL(req.url ?? '/', 'http://x').pathname, authorization: req.headers.authorization, body, raw };
    server.calls.push(call);
    if (req.method !== 'POST' || call.path !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `no route ${req.method} ${call.path}` } }));
      return;
    }
    const queued = server.queue.shift();
    const r = queued ?? server.reply(call);
    const spec: ReplySpec = typeof r === 'string' ? { content: r } : r;
    const send = () => {
      if (res.destroyed) return;
      const status = spec.status ?? 200;
      const text =
        spec.body ??
        (status === 200
          ? JSON.stringify({
              id: `chatcmpl-${server.calls.length}`,
              object: 'chat.completion',
              model: body?.model ?? 'fake',
              choices: [{ index: 0, message: { role: 'assistant', content: spec.content ?? '' }, finish_reason: 'stop' }],
              ...(spec.usage === null ? {} : { usage: spec.usage ?? usageOf(call, spec.content ?? '') }),
            })
          : JSON.stringify({ error: { message: `fault ${status}` } }));
      res.writeHead(status, { 'content-type': 'application/json', ...spec.headers });
      res.end(text);
    };
    if (spec.delayMs) {
      const t = setTimeout(() => {
        timers.delete(t);
        send();
      }, spec.delayMs);
      timers.add(t);
      res.on('close', () => {
        clearTimeout(t);
        timers.delete(t);
      });
    } else send();
  };
  const http: Server = createServer((req, res) => {
    handle(req, res).catch((e: Error) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(e.message));
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const port = (http.address() as AddressInfo).port;
  const server: OpenAIServer = {
    url: `http://127.0.0.1:${port}/v1`,
    calls: [],
    queue: [],
    reply,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
  return server;
}

/** Deterministic token counts: characters / 4 of the prompt and of the reply. */
function usageOf(call: ChatCall, content: string) {
  const prompt = Math.ceil((call.body?.messages ?? []).reduce((a, m) => a + m.content.length, 0) / 4);
  const completion = Math.ceil(content.length / 4);
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** The "token<TAB>value" or "n<TAB>token" lines between <start> and <end> of a prompt, per block. */
export function promptBlocks(text: string): string[][][] {
  const blocks: string[][][] = [];
  const re = /<start>\n([\s\S]*?)\n<end>/g;
  for (let m = re.exec(text); m; m = re.exec(text)) blocks.push(m[1].split('\n').map((l) => l.split('\t')));
  return blocks;
}

/** A deterministic interpreter that reads our prompts (see the file comment). */
export function fakeInterpreter(call: ChatCall): string {
  const messages = call.body?.messages ?? [];
  const user = messages.find((m) => m.role === 'user')?.content ?? '';
  const system = messages.find((m) => m.role === 'system')?.content ?? '';
  if (/predict/i.test(system)) {
    const word = /find the word "([^"]*)"/.exec(user)?.[1] ?? '\u0000';
    const rows = promptBlocks(user)[0] ?? [];
    return rows.map(([, tok]) => `${tok}\t${tok.trim().toLowerCase() === word ? 10 : 0}`).join('\n');
  }
  let best = { tok: '', a: -1 };
  for (const block of promptBlocks(user)) for (const [tok, a] of block) if (Number(a) > best.a) best = { tok, a: Number(a) };
  return `the main thing this neuron does is find the word "${best.tok.trim().toLowerCase()}".`;
}
