// A small client for OpenAI-compatible chat endpoints (OpenAI, vLLM, llama.cpp's server, Ollama): POST
// {base}/chat/completions at temperature 0, with a per-attempt timeout, retries with exponential backoff and
// jitter on 429 and 5xx (honouring Retry-After), a bounded number of retries on network errors and time-outs,
// and token usage logged per request. The API key lives in a private field: it is sent in the Authorization
// header and nowhere else, and every message this module writes is scrubbed of it.
import type { ChatMessage } from './prompts.js';
import { settingsFromEnv } from '../environment.js';

export interface LLMSettings {
  /** e.g. https://api.openai.com/v1 or http://127.0.0.1:8080/v1 (no trailing /chat/completions). */
  baseURL: string;
  model: string;
  /** Per attempt, including reading the reply. */
  timeoutMs: number;
  /** Retries after 429 or 5xx. */
  maxRetries: number;
  /** Retries after a network error or a time-out. */
  maxNetworkRetries: number;
  /** Backoff before retry n is min(maxBackoffMs, backoffMs · 2^(n−1)) times a jitter in [0.5, 1). */
  backoffMs: number;
  maxBackoffMs: number;
  /** A Retry-After longer than this fails the request at once instead of waiting. */
  maxRetryAfterMs: number;
  /** max_tokens for a reply; undefined leaves the server's default. */
  maxTokens?: number;
}

export const DEFAULT_LLM: Omit<LLMSettings, 'baseURL' | 'model'> = {
  timeoutMs: 60_000,
  maxRetries: 5,
  maxNetworkRetries: 2,
  backoffMs: 500,
  maxBackoffMs: 30_000,
  maxRetryAfterMs: 120_000,
};

export const OPENAI_BASE_URL = 'https://api.openai.com/v1';
export const OPENAI_DEFAULT_MODEL = 'gpt-4o-mini';

export type LLMOptions = Partial<LLMSettings> & { apiKey?: string };

export type LLMErrorReason = 'config' | 'timeout' | 'network' | 'http' | 'malformed' | 'aborted';

export class LLMError extends Error {
  override name = 'LLMError';
  constructor(
    message: string,
    readonly reason: LLMErrorReason,
    readonly status?: number,
  ) {
    super(message);
  }
}

/** A base URL for messages: no user:password, no query (either may carry a credential). */
export function displayURL(url: string): string {
  try {
    const u = new URL(url);
    u.username = '';
    u.password = '';
    u.search = '';
    return u.toString().replace(/\/$/, '');
  } catch {
    return '<invalid URL>';
  }
}

/** Settings from options, else the environment, else defaults; the key is returned apart from them. */
export function resolveLLMSettings(opts: LLMOptions, env: NodeJS.ProcessEnv): { settings: LLMSettings; apiKey: string | undefined } {
  const fromEnv = settingsFromEnv(env).llm;
  const apiKey = opts.apiKey ?? fromEnv.apiKey;
  const rawBase = opts.baseURL ?? fromEnv.baseURL ?? (apiKey ? OPENAI_BASE_URL : undefined);
  if (!rawBase) {
    throw new LLMError(
      'no language-model endpoint: set TEXTDREAM_LLM_BASE_URL (e.g. http://127.0.0.1:8080/v1 for a local server) or --llm-base-url, or OPENAI_API_KEY to use OpenAI',
      'config',
    );
  }
  let base: URL;
  try {
    base = new URL(rawBase);
  } catch {
    throw new LLMError(`the LLM base URL is not a URL: set TEXTDREAM_LLM_BASE_URL or --llm-base-url to e.g. http://127.0.0.1:8080/v1`, 'config');
  }
  if (base.protocol !== 'http:' && base.protocol !== 'https:') {
    throw new LLMError(`the LLM base URL must be http or https, got ${base.protocol} (TEXTDREAM_LLM_BASE_URL or --llm-base-url)`, 'config');
  }
  const baseURL = base.toString().replace(/\/+$/, '').replace(/\/chat\/completions$/, '');
  const isOpenAI = base.hostname === 'api.openai.com';
  const model = opts.model ?? fromEnv.model ?? (isOpenAI ? OPENAI_DEFAULT_MODEL : undefined);
  if (!model) throw new LLMError(`no model name for ${displayURL(baseURL)}: set TEXTDREAM_LLM_MODEL or --llm-model (the name the server serves)`, 'config');
  const timeoutMs = opts.timeoutMs ?? (fromEnv.timeoutMs ? Number(fromEnv.timeoutMs) : DEFAULT_LLM.timeoutMs);
  if (!(timeoutMs > 0)) throw new LLMError(`the LLM timeout must be a positive number of ms (TEXTDREAM_LLM_TIMEOUT_MS or --llm-timeout)`, 'config');
  const { apiKey: _k, ...rest } = opts;
  const defined = Object.fromEntries(Object.entries(rest).filter(([, v]) => v !== undefined));
  return { settings: { ...DEFAULT_LLM, ...defined, baseURL, model, timeoutMs }, apiKey };
}

export interface ChatUsage {
  prompt: number;
  completion: number;
  total: number;
}

export interface ChatReply {
  content: string;
  usage: ChatUsage | null;
  attempts: number;
}

export interface ClientDeps {
  /** Retries, usage and failures, one line each. */
  log?: (line: string) => void;
  fetch?: typeof fetch;
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Jitter source in [0, 1). */
  random?: () => number;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new LLMError('request cancelled', 'aborted'));
    const t = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new LLMError('request cancelled', 'aborted'));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Retry-After as ms: `retry-after-ms`, else `retry-after` in seconds or as an HTTP date; null when absent. */
export function retryAfterMs(headers: Headers, now = Date.now()): number | null {
  const ms = headers.get('retry-after-ms');
  if (ms !== null && Number.isFinite(Number(ms)) && Number(ms) >= 0) return Number(ms);
  const v = headers.get('retry-after');
  if (v === null) return null;
  if (/^\s*\d+(\.\d+)?\s*$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}

export class ChatClient {
  readonly #apiKey: string | undefined;
  readonly usage = { prompt: 0, completion: 0, total: 0, requests: 0 };
  private readonly log: (line: string) => void;
  private readonly doFetch: typeof fetch;
  private readonly doSleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  private readonly random: () => number;

  constructor(
    readonly settings: LLMSettings,
    apiKey: string | undefined,
    deps: ClientDeps = {},
  ) {
    this.#apiKey = apiKey || undefined;
    const log = deps.log ?? (() => {});
    this.log = (line) => log(this.redact(line));
    this.doFetch = deps.fetch ?? fetch;
    this.doSleep = deps.sleep ?? sleep;
    this.random = deps.random ?? Math.random;
  }

  /** What may be shown or stored about the endpoint. */
  describe(): { baseURL: string; model: string } {
    return { baseURL: displayURL(this.settings.baseURL), model: this.settings.model };
  }

  /** `text` with the key, and any word sharing a long piece of it (servers echo masked keys), replaced. */
  redact(text: string): string {
    const key = this.#apiKey;
    if (!key) return text;
    let out = text.split(key).join('[redacted]');
    if (key.length >= 12) {
      const head = key.slice(0, 8);
      const tail = key.slice(-8);
      out = out.replace(/[^\s"'`,;()<>]+/g, (w) => (w.includes(head) || w.includes(tail) ? '[redacted]' : w));
    }
    return out;
  }

  private backoff(retry: number): number {
    const s = this.settings;
    return Math.round(Math.min(s.maxBackoffMs, s.backoffMs * 2 ** (retry - 1)) * (0.5 + 0.5 * this.random()));
  }

  private fail(message: string, reason: LLMErrorReason, status?: number): never {
    throw new LLMError(this.redact(message), reason, status);
  }

  /** One chat completion at temperature 0; `label` names the request in log lines. */
  async chat(messages: ChatMessage[], opts: { signal?: AbortSignal; label?: string; maxTokens?: number } = {}): Promise<ChatReply> {
    const s = this.settings;
    const url = `${s.baseURL}/chat/completions`;
    const where = displayURL(url);
    const label = opts.label ?? 'request';
    const maxTokens = opts.maxTokens ?? s.maxTokens;
    const body = JSON.stringify({ model: s.model, messages, temperature: 0, ...(maxTokens !== undefined ? { max_tokens: maxTokens } : {}) });
    const headers: Record<string, string> = { 'content-type': 'application/json', accept: 'application/json' };
    if (this.#apiKey) headers.authorization = `Bearer ${this.#apiKey}`;
    let httpRetries = 0;
    let netRetries = 0;
    for (let attempt = 1; ; attempt++) {
      if (opts.signal?.aborted) this.fail(`${label}: cancelled`, 'aborted');
      const timeout = AbortSignal.timeout(s.timeoutMs);
      const signal = opts.signal ? AbortSignal.any([opts.signal, timeout]) : timeout;
      let status: number;
      let text: string;
      let resHeaders: Headers;
      try {
        const res = await this.doFetch(url, { method: 'POST', headers, body, signal });
        status = res.status;
        resHeaders = res.headers;
        text = await res.text();
      } catch (e) {
        if (opts.signal?.aborted) this.fail(`${label}: cancelled`, 'aborted');
        const timedOut = timeout.aborted;
        const why = timedOut ? `no reply within ${s.timeoutMs} ms` : `network error (${causeOf(e)})`;
        if (netRetries < s.maxNetworkRetries) {
          netRetries++;
          const wait = this.backoff(netRetries);
          this.log(`llm ${label}: ${why}; retry ${netRetries}/${s.maxNetworkRetries} in ${wait} ms`);
          await this.doSleep(wait, opts.signal);
          continue;
        }
        const fix = timedOut
          ? 'raise the time-out (--llm-timeout or TEXTDREAM_LLM_TIMEOUT_MS) or use a faster server'
          : 'check the base URL (--llm-base-url or TEXTDREAM_LLM_BASE_URL) and that the server is running';
        this.fail(`${where}: ${why} on each of ${attempt} attempts; ${fix}`, timedOut ? 'timeout' : 'network');
      }
      if (status === 429 || status >= 500) {
        const asked = retryAfterMs(resHeaders);
        if (asked !== null && asked > s.maxRetryAfterMs) {
          this.fail(`${where} answered ${status} and asked to retry after ${Math.round(asked / 1000)} s, longer than the ${Math.round(s.maxRetryAfterMs / 1000)} s allowed; try again later`, 'http', status);
        }
        if (httpRetries < s.maxRetries) {
          httpRetries++;
          const wait = asked ?? this.backoff(httpRetries);
          this.log(`llm ${label}: HTTP ${status}${asked !== null ? ' (Retry-After)' : ''}; retry ${httpRetries}/${s.maxRetries} in ${Math.round(wait)} ms`);
          await this.doSleep(wait, opts.signal);
          continue;
        }
        this.fail(`${where} answered HTTP ${status} on each of ${attempt} attempts: ${excerpt(text)}`, 'http', status);
      }
      if (status < 200 || status >= 300) {
        const hint =
          status === 401 || status === 403
            ? ' (check OPENAI_API_KEY)'
            : status === 404
              ? ' (check the base URL, which should end before /chat/completions, and the model name)'
              : '';
        this.fail(`${where} answered HTTP ${status}${hint}: ${excerpt(text)}`, 'http', status);
      }
      const reply = this.readReply(text, where);
      this.usage.requests++;
      if (reply.usage) {
        this.usage.prompt += reply.usage.prompt;
        this.usage.completion += reply.usage.completion;
        this.usage.total += reply.usage.total;
        this.log(`llm ${label}: tokens prompt ${reply.usage.prompt} + completion ${reply.usage.completion} = ${reply.usage.total}${attempt > 1 ? ` (${attempt} attempts)` : ''}`);
      } else {
        this.log(`llm ${label}: the server reported no token usage`);
      }
      return { ...reply, attempts: attempt };
    }
  }

  private readReply(text: string, where: string): { content: string; usage: ChatUsage | null } {
    let j: unknown;
    try {
      j = JSON.parse(text);
    } catch {
      this.fail(`${where} sent a reply that is not JSON: ${excerpt(text)}`, 'malformed');
    }
    const content = (j as { choices?: { message?: { content?: unknown } }[] })?.choices?.[0]?.message?.content;
    if (typeof content !== 'string') this.fail(`${where} sent a reply without choices[0].message.content: ${excerpt(text)}`, 'malformed');
    const u = (j as { usage?: Record<string, unknown> }).usage;
    const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
    const usage = u && typeof u === 'object' ? { prompt: num(u.prompt_tokens), completion: num(u.completion_tokens), total: num(u.total_tokens) || num(u.prompt_tokens) + num(u.completion_tokens) } : null;
    return { content, usage };
  }
}

function excerpt(text: string): string {
  const t = text.replace(/\s+/g, ' ').trim();
  return JSON.stringify(t.length > 200 ? `${t.slice(0, 200)}…` : t);
}

function causeOf(e: unknown): string {
  const err = e as { cause?: { code?: string; message?: string }; code?: string; message?: string };
  return err?.cause?.code ?? err?.code ?? err?.cause?.message ?? err?.message ?? String(e);
}
