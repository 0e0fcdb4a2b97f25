// The chat client against a loopback OpenAI-compatible server that the tests start, with deterministic
// replies and injected faults: 429 with Retry-After, 500, a slow reply, malformed replies, a refused
// connection. The API key must reach the server's Authorization header and nothing else.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ChatClient, LLMError, resolveLLMSettings, retryAfterMs, type LLMSettings } from '../src-main/explain/openai.js';
import { llmExplainer, llmSimulator } from '../src-main/explain/llm.js';
import { explainNeuron } from '../src-main/explain/pipeline.js';
import { SimulationParseError } from '../src-main/explain/parse.js';
import type { ActivationRecord, NeuronRecords } from '../src-main/explain/types.js';
import { fakeInterpreter, startOpenAIServer, type OpenAIServer } from './helpers/openaiServer.js';

const KEY = 'sk-test-DO-NOT-LEAK-0123456789abcdef';
const MSG = [{ role: 'user' as const, content: 'hello' }];

let server: OpenAIServer;
beforeAll(async () => {
  server = await startOpenAIServer(fakeInterpreter);
});
afterAll(() => server.stop());
afterEach(() => {
  server.queue.length = 0;
  server.calls.length = 0;
  server.reply = fakeInterpreter;
});

interface Harness {
  client: ChatClient;
  logs: string[];
  waits: number[];
}

/** A client on the test server; sleeps are recorded (and skipped) unless `realSleep`. */
function harness(over: Partial<LLMSettings> = {}, realSleep = false): Harness {
  const logs: string[] = [];
  const waits: number[] = [];
  const { settings, apiKey } = resolveLLMSettings({ baseURL: server.url, model: 'fake-model', apiKey: KEY, timeoutMs: 2000, backoffMs: 100, ...over }, {});
  const client = new ChatClient(settings, apiKey, {
    log: (l) => logs.push(l),
    random: () => 0.5,
    ...(realSleep
      ? {}
      : {
          sleep: async (ms: number) => {
            waits.push(ms);
          },
        }),
  });
  return { client, logs, waits };
}

function noKeyIn(...texts: string[]): void {
  for (const t of texts) {
    expect(t).not.toContain(KEY);
    expect(t).not.toContain(KEY.slice(0, 12));
    expect(t).not.toContain(KEY.slice(-8));
  }
}

describe('chat client', () => {
  it('POSTs model, messages and temperature 0 with the key as a bearer token; logs usage', async () => {
    server.reply = () => ({ content: 'hi there', usage: { prompt_tokens: 12, completion_tokens: 3, total_tokens: 15 } });
    const h = harness();
    const r = await h.client.chat(MSG, { label: 'greeting' });
    expect(r.content).toBe('hi there');
    expect(r.attempts).toBe(1);
    expect(server.calls).toHaveLength(1);
    const call = server.calls[0];
    expect(call.path).toBe('/v1/chat/completions');
    expect(call.authorization).toBe(`Bearer ${KEY}`);
    expect(call.body).toMatchObject({ model: 'fake-model', temperature: 0, messages: MSG });
    expect(h.logs).toEqual(['llm greeting: tokens prompt 12 + completion 3 = 15']);
    expect(h.client.usage).toEqual({ prompt: 12, completion: 3, total: 15, requests: 1 });
    noKeyIn(JSON.stringify(h.client), JSON.stringify(h.client.describe()), JSON.stringify(h.client.settings));
  });

  it('429 with Retry-After: waits what the server asked, then succeeds', async () => {
    server.queue.push({ status: 429, headers: { 'retry-after': '2' } }, { status: 429, headers: { 'retry-after-ms': '150' } });
    const h = harness();
    const r = await h.client.chat(MSG);
    expect(r.attempts).toBe(3);
    expect(h.waits).toEqual([2000, 150]);
    expect(h.logs.filter((l) => /HTTP 429 \(Retry-After\)/.test(l))).toHaveLength(2);
  });

  it('429 with a real Retry-After: 1 s honoured in real time', async () => {
    server.queue.push({ status: 429, headers: { 'retry-after': '1' } });
    const h = harness({}, true);
    const t0 = Date.now();
    await h.client.chat(MSG);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(950);
    expect(server.calls).toHaveLength(2);
  });

  it('500 then success: exponential backoff with jitter', async () => {
    server.queue.push({ status: 500 }, { status: 503 }, { status: 502 });
    const h = harness({ backoffMs: 100 });
    const r = await h.client.chat(MSG);
    expect(r.attempts).toBe(4);
    // base · 2^(n−1) × (0.5 + 0.5 · 0.5)
    expect(h.waits).toEqual([75, 150, 300]);
  });

  it('gives up after maxRetries with a clear message', async () => {
    for (let i = 0; i < 5; i++) server.queue.push({ status: 500, body: `{"error":"boom ${i}"}` });
    const h = harness({ maxRetries: 2 });
    const err = await h.client.chat(MSG).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LLMError);
    expect((err as LLMError).reason).toBe('http');
    expect((err as LLMError).message).toMatch(/answered HTTP 500 on each of 3 attempts/);
    expect(server.calls).toHaveLength(3);
  });

  it('fails at once when Retry-After is longer than allowed', async () => {
    server.queue.push({ status: 429, headers: { 'retry-after': '3600' } });
    const err = await harness().client.chat(MSG).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/retry after 3600 s, longer than the 120 s allowed/);
    expect(server.calls).toHaveLength(1);
  });

  it('a slow reply beyond the time-out is abandoned and retried', async () => {
    server.queue.push({ content: 'late', delayMs: 3000 });
    const h = harness({ timeoutMs: 300 }, true);
    const t0 = Date.now();
    const r = await h.client.chat(MSG);
    expect(r.content).not.toBe('late');
    expect(r.attempts).toBe(2);
    expect(Date.now() - t0).toBeLessThan(2500);
    expect(h.logs[0]).toMatch(/no reply within 300 ms; retry 1\/2/);
  });

  it('every attempt too slow: fails with a message that names the time-out setting', async () => {
    server.reply = () => ({ content: 'late', delayMs: 3000 });
    const h = harness({ timeoutMs: 200, maxNetworkRetries: 1, backoffMs: 10 }, true);
    const err = await h.client.chat(MSG).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LLMError);
    expect((err as LLMError).reason).toBe('timeout');
    expect((err as LLMError).message).toMatch(/no reply within 200 ms on each of 2 attempts; raise the time-out \(--llm-timeout or TEXTDREAM_LLM_TIMEOUT_MS\)/);
  });

  it('a refused connection is retried a bounded number of times, then reported', async () => {
    // A port that was just free: nothing listens there.
    const closed = await startOpenAIServer();
    await closed.stop();
    const { settings } = resolveLLMSettings({ baseURL: closed.url, model: 'm', maxNetworkRetries: 2, backoffMs: 1 }, {});
    const logs: string[] = [];
    const client = new ChatClient(settings, KEY, { log: (l) => logs.push(l) });
    const err = await client.chat(MSG).catch((e: unknown) => e);
    expect((err as LLMError).reason).toBe('network');
    expect((err as LLMError).message).toMatch(/network error \(ECONNREFUSED\) on each of 3 attempts; check the base URL/);
    expect(logs).toHaveLength(2);
    noKeyIn((err as Error).message, ...logs);
  });

  it('a reply that is not JSON, or has no content, is rejected with the reason', async () => {
    server.queue.push({ body: '<html>gateway</html>' }, { body: '{"choices":[]}' });
    const h = harness();
    await expect(h.client.chat(MSG)).rejects.toThrow(/not JSON: "<html>gateway<\/html>"/);
    await expect(h.client.chat(MSG)).rejects.toThrow(/without choices\[0\]\.message\.content/);
  });

  it('a missing usage block is logged as such', async () => {
    server.queue.push({ content: 'x', usage: null });
    const h = harness();
    await h.client.chat(MSG, { label: 'u' });
    expect(h.logs).toEqual(['llm u: the server reported no token usage']);
  });

  it('never leaks the key: not in errors even when the server echoes it, nor in logs', async () => {
    server.queue.push({ status: 401, body: JSON.stringify({ error: { message: `Incorrect API key provided: ${KEY}. Also ${KEY.slice(0, 10)}***${KEY.slice(-4)}` } }) });
    const h = harness();
    const err = (await h.client.chat(MSG).catch((e: unknown) => e)) as LLMError;
    expect(err.status).toBe(401);
    expect(err.message).toMatch(/HTTP 401 \(check OPENAI_API_KEY\)/);
    expect(err.message).toContain('[redacted]');
    noKeyIn(err.message, String(err.stack), ...h.logs);
  });
});

describe('settings', () => {
  it('come from options, else the environment; the key never sits in the settings', () => {
    const env = { TEXTDREAM_LLM_BASE_URL: 'http://127.0.0.1:9/v1/', TEXTDREAM_LLM_MODEL: 'llama', OPENAI_API_KEY: KEY, TEXTDREAM_LLM_TIMEOUT_MS: '1234' };
    const r = resolveLLMSettings({}, env);
    expect(r.settings).toMatchObject({ baseURL: 'http://127.0.0.1:9/v1', model: 'llama', timeoutMs: 1234 });
    expect(r.apiKey).toBe(KEY);
    noKeyIn(JSON.stringify(r.settings));
    expect(resolveLLMSettings({ model: 'x', baseURL: 'http://h/v1/chat/completions' }, env).settings.baseURL).toBe('http://h/v1');
    expect(resolveLLMSettings({}, { OPENAI_BASE_URL: 'http://o/v1', TEXTDREAM_LLM_MODEL: 'm' }).settings.baseURL).toBe('http://o/v1');
    expect(resolveLLMSettings({}, { OPENAI_API_KEY: KEY }).settings).toMatchObject({ baseURL: 'https://api.openai.com/v1', model: 'gpt-4o-mini' });
  });

  it('errors name the setting to change', () => {
    expect(() => resolveLLMSettings({}, {})).toThrow(/set TEXTDREAM_LLM_BASE_URL/);
    expect(() => resolveLLMSettings({}, { TEXTDREAM_LLM_BASE_URL: 'http://127.0.0.1:8080/v1' })).toThrow(/set TEXTDREAM_LLM_MODEL or --llm-model/);
    expect(() => resolveLLMSettings({ baseURL: 'ftp://x' }, {})).toThrow(/must be http or https/);
  });

  it('reads Retry-After as seconds, as an HTTP date, and retry-after-ms', () => {
    expect(retryAfterMs(new Headers({ 'retry-after': '3' }))).toBe(3000);
    expect(retryAfterMs(new Headers({ 'retry-after-ms': '250' }))).toBe(250);
    expect(retryAfterMs(new Headers({ 'retry-after': new Date(10_000).toUTCString() }), 4_000)).toBe(6000);
    expect(retryAfterMs(new Headers({}))).toBeNull();
  });
});

/** A neuron that fires on " cat". */
function catNeuron(): NeuronRecords {
  const rec = (hits: number[], n = 8): ActivationRecord => {
    const words = [' the', ' dog', ' sat', ' on', ' a', ' mat', ' and', ' slept'];
    const tokens = Array.from({ length: n }, (_, i) => (hits.includes(i) ? ' cat' : words[i % words.length]));
    return { tokens, activations: tokens.map((t, i) => (t === ' cat' ? 2 + 0.1 * i : 0.01 * i)) };
  };
  const top = Array.from({ length: 20 }, (_, i) => rec([i % 8, (i + 3) % 8]));
  const random = Array.from({ length: 10 }, (_, i) => rec(i % 3 === 0 ? [i % 8] : []));
  return { layer: 0, neuron: 5, top, random, maxActivation: 3 };
}

describe('the protocol over the endpoint', () => {
  it('explains, simulates every held-out record, scores, and logs usage per request', async () => {
    const h = harness();
    const run = await explainNeuron(catNeuron(), llmExplainer(h.client), llmSimulator(h.client));
    expect(run.explanation).toBe('the word "cat"');
    expect(server.calls).toHaveLength(11); // 1 explanation + 5 top + 5 random simulations
    expect(run.score.failed).toBe(0);
    expect(run.score.all).toBeGreaterThan(0.95);
    expect(h.logs.filter((l) => /tokens prompt \d+ \+ completion \d+ = \d+/.test(l))).toHaveLength(11);
    expect(h.client.usage.requests).toBe(11);
    noKeyIn(JSON.stringify(run), ...h.logs);
  });

  it('a simulator reply with the wrong count costs that record only, with the reason', async () => {
    const h = harness();
    let n = 0;
    server.reply = (call) => {
      const text = fakeInterpreter(call);
      // The 3rd request (2nd simulation) drops its last line.
      return ++n === 3 ? text.split('\n').slice(0, -1).join('\n') : text;
    };
    const logs: string[] = [];
    const run = await explainNeuron(catNeuron(), llmExplainer(h.client), llmSimulator(h.client), [], { log: (l) => logs.push(l) });
    expect(run.score.failed).toBe(1);
    const failed = run.score.records.find((r) => r.error)!;
    expect(failed.simulated).toBeNull();
    expect(failed.error).toMatch(/expected 8 \(one per token\)/);
    expect(logs[0]).toMatch(/top record 1: simulator reply has the wrong number of values/);
    expect(Number.isFinite(run.score.all)).toBe(true);
  });

  it('repairable replies are read leniently', async () => {
    const h = harness();
    server.reply = (call) => {
      const text = fakeInterpreter(call);
      if (!/predict/i.test(call.body?.messages?.[0].content ?? '')) return text;
      // Bare numbers behind a chatty header.
      return `Sure! Here you go:\n${text.split('\n').map((l) => `**${l.split('\t')[1]}**`).join('\n')}`;
    };
    await expect(llmSimulator(h.client).simulate('the word "cat"', [' a', ' cat', ' sat'])).resolves.toEqual([0, 10, 0]);
    server.reply = () => '0\n10';
    await expect(llmSimulator(h.client).simulate('x', [' a', ' cat', ' sat'])).rejects.toBeInstanceOf(SimulationParseError);
  });
});
