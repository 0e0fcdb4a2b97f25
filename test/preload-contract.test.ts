/**
 * The preload bridge against the contract: exactly `invoke` and `on`, only contract channels and
 * events, envelopes unwrapped, error names preserved (also across contextBridge's Error copying).
 */
import { beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  API_CHANNELS,
  API_EVENTS,
  BRIDGE_KEY,
  decodeBridgeError,
  type ProgressEvent,
  type TextdreamBridge,
} from '../src-main/api/contract';

const fake = vi.hoisted(() => ({
  exposed: new Map<string, unknown>(),
  invoke: vi.fn<(channel: string, ...args: unknown[]) => Promise<unknown>>(),
  on: vi.fn<(channel: string, listener: (...args: unknown[]) => void) => void>(),
  removeListener: vi.fn<(channel: string, listener: (...args: unknown[]) => void) => void>(),
}));

vi.mock('electron', () => ({
  contextBridge: {
    exposeInMainWorld: (key: string, api: unknown) => {
      fake.exposed.set(key, api);
    },
  },
  ipcRenderer: { invoke: fake.invoke, on: fake.on, removeListener: fake.removeListener },
}));

let bridge: TextdreamBridge;

beforeAll(async () => {
  await import('../src-preload/index');
  bridge = fake.exposed.get(BRIDGE_KEY) as TextdreamBridge;
});

beforeEach(() => {
  fake.invoke.mockReset();
  fake.on.mockReset();
  fake.removeListener.mockReset();
});

describe('preload bridge', () => {
  it(`exposes one object, window.${BRIDGE_KEY}, with exactly invoke and on`, () => {
    expect([...fake.exposed.keys()]).toEqual([BRIDGE_KEY]);
    expect(Object.keys(bridge).sort()).toEqual(['invoke', 'on']);
    expect(typeof bridge.invoke).toBe('function');
    expect(typeof bridge.on).toBe('function');
  });

  it('rejects a channel that is not in API_CHANNELS without touching IPC', async () => {
    const invokeAny = bridge.invoke as (channel: string, req: unknown) => Promise<unknown>;
    for (const channel of ['app.quit', 'ELECTRON_BROWSER_REQUIRE', '', 'progress']) {
      await expect(invokeAny(channel, undefined)).rejects.toMatchObject({ name: 'UnknownChannelError' });
    }
    await expect(invokeAny(42 as unknown as string, undefined)).rejects.toMatchObject({ name: 'UnknownChannelError' });
    expect(fake.invoke).not.toHaveBeenCalled();
  });

  it('sends a contract channel to ipcRenderer.invoke and unwraps the result', async () => {
    const info = { version: '9.9.9', backend: null, defaultModel: 'm' };
    fake.invoke.mockResolvedValue({ result: info });
    for (const channel of API_CHANNELS) {
      await expect(bridge.invoke(channel, undefined)).resolves.toEqual(info);
      expect(fake.invoke).toHaveBeenLastCalledWith(channel, undefined);
    }
  });

  it('re-throws an error envelope with its name', async () => {
    fake.invoke.mockResolvedValue({ error: { name: 'ModelNotFoundError', message: 'no model at /x' } });
    const failure = await bridge.invoke('app.info', undefined).then(
      () => null,
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(Error);
    expect(failure).toMatchObject({ name: 'ModelNotFoundError' });
    expect((failure as Error).message).toContain('no model at /x');

    // contextBridge copies a rejected Error as `new Error(message)`; the renderer client restores the name.
    const copied = new Error((failure as Error).message);
    expect(decodeBridgeError(copied)).toMatchObject({ name: 'ModelNotFoundError', message: 'no model at /x' });
  });

  it('turns a failing ipcRenderer.invoke and a malformed reply into named errors', async () => {
    fake.invoke.mockRejectedValue(new Error("Error invoking remote method 'app.info': no handler"));
    await expect(bridge.invoke('app.info', undefined)).rejects.toMatchObject({ name: 'Error' });
    fake.invoke.mockResolvedValue('not an envelope');
    await expect(bridge.invoke('app.info', undefined)).rejects.toMatchObject({ name: 'ProtocolError' });
  });

  it('subscribes only to contract events, passes the payload alone, and unsubscribes', () => {
    const onAny = bridge.on as (event: string, cb: (payload: unknown) => void) => () => void;
    expect(() => onAny('app.info', () => {})).toThrow(/unknown API event/);
    expect(fake.on).not.toHaveBeenCalled();

    const seen: ProgressEvent[] = [];
    const off = bridge.on(API_EVENTS[0], (payload) => seen.push(payload));
    expect(fake.on).toHaveBeenCalledTimes(1);
    const [channel, listener] = fake.on.mock.calls[0]!;
    expect(channel).toBe('progress');

    const payload: ProgressEvent = { type: 'progress', task: 't', done: 1, total: 4 };
    listener({ sender: 'ipc-event-must-not-leak' }, payload);
    expect(seen).toEqual([payload]);

    off();
    expect(fake.removeListener).toHaveBeenCalledWith('progress', listener);
  });
});

describe('the contract the preload exposes', () => {
  it('forwards every contract channel and subscribes to every contract event, under distinct names', () => {
    expect(new Set(API_CHANNELS).size).toBe(API_CHANNELS.length);
    expect(new Set(API_EVENTS).size).toBe(API_EVENTS.length);
    expect(API_CHANNELS.filter((c) => (API_EVENTS as readonly string[]).includes(c))).toEqual([]);
    for (const event of API_EVENTS) {
      fake.on.mockReset();
      const off = bridge.on(event, () => {});
      expect(fake.on).toHaveBeenCalledWith(event, expect.any(Function));
      off();
    }
  });

  it('passes nothing that is not a contract name, however it is spelled', async () => {
    const invokeAny = bridge.invoke as (channel: unknown, req: unknown) => Promise<unknown>;
    const onAny = bridge.on as (event: unknown, cb: () => void) => () => void;
    const lookalikes = [...API_CHANNELS.map((c) => c.toUpperCase()), ...API_CHANNELS.map((c) => ` ${c}`), 'dreams.*', 'constructor', '__proto__', 'toString', null, {}];
    for (const name of lookalikes) {
      await expect(invokeAny(name, undefined)).rejects.toMatchObject({ name: 'UnknownChannelError' });
      expect(() => onAny(name, () => {})).toThrow();
    }
    expect(fake.invoke).not.toHaveBeenCalled();
    expect(fake.on).not.toHaveBeenCalled();
  });
});

describe('renderer client (src-renderer/lib/api.ts)', () => {
  it('restores the error name that contextBridge drops', async () => {
    const { bridgeClient } = await import('../src-renderer/lib/api');
    // What the page sees after contextBridge: only the message of the preload's error survives.
    const copiedByContextBridge: TextdreamBridge = {
      invoke: () => Promise.reject(new Error('AbortError: run stopped')),
      on: () => () => {},
    };
    await expect(bridgeClient(copiedByContextBridge).invoke('app.info', undefined)).rejects.toMatchObject({
      name: 'AbortError',
      message: 'run stopped',
    });
  });

  it('over HTTP, POSTs JSON to /api/<channel> and unwraps the envelope', async () => {
    const { httpClient } = await import('../src-renderer/lib/api');
    const calls: { url: string; init: RequestInit | undefined }[] = [];
    let reply: unknown = { result: { version: '1', backend: 'wasm', defaultModel: 'm' } };
    const fetchStub = (async (url: string | URL | Request, init?: RequestInit) => {
      calls.push({ url: String(url), init });
      return new Response(JSON.stringify(reply), { headers: { 'content-type': 'application/json' } });
    }) as typeof fetch;
    const client = httpClient({ base: 'http://127.0.0.1:1', fetch: fetchStub });

    await expect(client.invoke('app.info', undefined)).resolves.toEqual({ version: '1', backend: 'wasm', defaultModel: 'm' });
    expect(calls[0]!.url).toBe('http://127.0.0.1:1/api/app.info');
    expect(calls[0]!.init?.method).toBe('POST');

    reply = { error: { name: 'ModelNotFoundError', message: 'nothing here' } };
    await expect(client.invoke('app.info', undefined)).rejects.toMatchObject({ name: 'ModelNotFoundError', message: 'nothing here' });

    const invokeAny = client.invoke as (channel: string, req: unknown) => Promise<unknown>;
    await expect(invokeAny('nope', undefined)).rejects.toMatchObject({ name: 'UnknownChannelError' });
    expect(calls).toHaveLength(2);
  });

  it('over HTTP, reports a dropped event stream and reopens it with every subscription', async () => {
    const { httpClient } = await import('../src-renderer/lib/api');
    class FakeSource {
      readyState = 1;
      closed = false;
      readonly listeners = new Map<string, Set<(e: MessageEvent<string>) => void>>();
      constructor(readonly url: string) {}
      addEventListener(name: string, l: (e: MessageEvent<string>) => void) {
        if (!this.listeners.has(name)) this.listeners.set(name, new Set());
        this.listeners.get(name)!.add(l);
      }
      removeEventListener(name: string, l: (e: MessageEvent<string>) => void) {
        this.listeners.get(name)?.delete(l);
      }
      close() {
        this.closed = true;
      }
      fire(name: string, data?: unknown) {
        for (const l of this.listeners.get(name) ?? []) l({ data: JSON.stringify(data) } as MessageEvent<string>);
      }
    }
    const sources: FakeSource[] = [];
    vi.useFakeTimers();
    try {
      const client = httpClient({ eventSource: (url) => (sources.push(new FakeSource(url)), sources.at(-1) as unknown as EventSource) });
      const states: boolean[] = [];
      client.onConnection((c) => states.push(c));
      const steps: unknown[] = [];
      const off = client.on('dream.step', (p) => steps.push(p.index));
      client.on('progress', () => {});
      expect(sources).toHaveLength(1);
      expect(sources[0].url).toBe('/api/events');
      sources[0].fire('dream.step', { runId: 'r', index: 0, record: {} });

      sources[0].readyState = 2; // the server answered with an error: EventSource gives up
      sources[0].fire('error');
      expect(states).toEqual([false]);
      vi.advanceTimersByTime(2500);
      expect(sources).toHaveLength(2);
      sources[1].fire('open');
      expect(states).toEqual([false, true]);
      sources[1].fire('dream.step', { runId: 'r', index: 1, record: {} });
      expect(steps).toEqual([0, 1]);

      off();
      expect(sources[1].listeners.get('dream.step')?.size ?? 0).toBe(0);
    } finally {
      vi.useRealTimers();
    }
  });

  it('over HTTP, announces the event stream\'s first open too, so what was fetched before it is fetched again', async () => {
    const { httpClient } = await import('../src-renderer/lib/api');
    const source = bareSource(0);
    const client = httpClient({ eventSource: () => source as unknown as EventSource });
    const states: boolean[] = [];
    client.onConnection((c) => states.push(c));
    client.on('models.changed', () => {});
    // A model that finished loading now, before the stream is open, sends its event to nobody.
    expect(states).toEqual([]);
    source.fire('open');
    expect(states).toEqual([true]);
  });

  it('over HTTP, keeps its place in the stream across an automatic reconnect', async () => {
    const { httpClient } = await import('../src-renderer/lib/api');
    const source = bareSource(1);
    vi.useFakeTimers();
    try {
      const opened: number[] = [];
      const client = httpClient({ eventSource: () => (opened.push(1), source as unknown as EventSource) });
      const states: boolean[] = [];
      client.onConnection((c) => states.push(c));
      client.on('progress', () => {});
      source.fire('open');
      // A network error: EventSource retries by itself (readyState CONNECTING), so no fresh one is opened.
      source.readyState = 0;
      source.fire('error');
      vi.advanceTimersByTime(5000);
      source.fire('open');
      expect(states).toEqual([true, false, true]);
      expect(opened).toHaveLength(1);
    } finally {
      vi.useRealTimers();
    }
  });
});

/** An EventSource stand-in whose events the test fires by name. */
function bareSource(readyState: number) {
  const listeners = new Map<string, Array<() => void>>();
  return {
    readyState,
    addEventListener: (name: string, l: () => void) => listeners.set(name, [...(listeners.get(name) ?? []), l]),
    removeEventListener: () => {},
    close: () => {},
    fire: (name: string) => (listeners.get(name) ?? []).forEach((l) => l()),
  };
}
