// The contract over a message port (what Electron's main process and the engine's utility process speak):
// results, error names and events cross intact; a dead far side fails pending calls with a named error.
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { API_CHANNELS, type ApiHandlers } from '../src-main/api/contract.js';
import { EventHub } from '../src-main/engine/events.js';
import { NoModelError } from '../src-main/engine/errors.js';
import { serveWire, wireClient, type RpcMessage, type Wire } from '../src-main/engine/rpc.js';

function nodeWire(port: MessagePort): Wire {
  return {
    send: (m) => port.postMessage(m),
    onMessage: (listener) => {
      const l = (m: RpcMessage) => listener(m);
      port.on('message', l);
      return () => void port.off('message', l);
    },
  };
}

const ports: MessagePort[] = [];
afterEach(() => ports.splice(0).forEach((p) => p.close()));

function pair(handlers: Partial<ApiHandlers>, events = new EventHub()) {
  const { port1, port2 } = new MessageChannel();
  ports.push(port1, port2);
  const full = Object.fromEntries(API_CHANNELS.map((c) => [c, handlers[c] ?? (() => Promise.reject(new Error(`${c} not stubbed`)))])) as ApiHandlers;
  serveWire(nodeWire(port2), { handlers: full, events });
  return { client: wireClient(nodeWire(port1)), events };
}

describe('engine RPC over a MessagePort', () => {
  it('forwards calls and results; errors arrive with their names', async () => {
    const { client } = pair({
      'app.info': () => ({ version: '1.2.3', backend: 'wasm', defaultModel: '/m' }),
      'dreams.get': () => {
        throw new NoModelError();
      },
      'tasks.cancel': async (req) => ({ cancelled: req.task === 'model:1' }),
    });
    expect(Object.keys(client.handlers).sort()).toEqual([...API_CHANNELS].sort());
    await expect(client.handlers['app.info']()).resolves.toEqual({ version: '1.2.3', backend: 'wasm', defaultModel: '/m' });
    await expect(client.handlers['tasks.cancel']({ task: 'model:1' })).resolves.toEqual({ cancelled: true });
    await expect(client.handlers['dreams.get']({ runId: 'x' })).rejects.toMatchObject({ name: 'NoModelError', message: expect.stringMatching(/no model/) });
    // Calls are matched to replies by id, whatever order they finish in.
    const [a, b] = await Promise.all([client.handlers['tasks.cancel']({ task: 'model:1' }), client.handlers['tasks.cancel']({ task: 'other' })]);
    expect([a.cancelled, b.cancelled]).toEqual([true, false]);
  });

  it('pushes engine events to the client, numbered', async () => {
    const { client, events } = pair({});
    const seen: unknown[] = [];
    const got = new Promise<void>((resolve) =>
      client.onEvent((e) => {
        seen.push(e);
        if (seen.length === 2) resolve();
      }),
    );
    events.publish('progress', { type: 'initiate', task: 'model:1', label: 'load x' });
    events.publish('dream.ended', { runId: 'r', status: 'aborted', result: null, error: null });
    await got;
    expect(seen).toEqual([
      { id: 1, name: 'progress', payload: { type: 'initiate', task: 'model:1', label: 'load x' } },
      { id: 2, name: 'dream.ended', payload: { runId: 'r', status: 'aborted', result: null, error: null } },
    ]);
  });

  it('fails pending and later calls with EngineUnavailableError once closed', async () => {
    const { client } = pair({ 'app.info': () => new Promise(() => {}) });
    const pending = client.handlers['app.info']();
    client.close('the engine process exited (code 1)');
    await expect(pending).rejects.toMatchObject({ name: 'EngineUnavailableError', message: expect.stringMatching(/exited/) });
    await expect(client.handlers['models.state']()).rejects.toMatchObject({ name: 'EngineUnavailableError' });
  });
});

describe('event hub', () => {
  it('replays what a reconnecting client missed, or says it cannot', () => {
    const hub = new EventHub(3);
    for (let i = 0; i < 5; i++) hub.publish('progress', { type: 'done', task: `t${i}` });
    expect(hub.since(5)).toEqual([]);
    expect(hub.since(3)!.map((e) => e.id)).toEqual([4, 5]);
    expect(hub.since(2)!.map((e) => e.id)).toEqual([3, 4, 5]);
    expect(hub.since(1)).toBeNull(); // event 2 is gone: the client must re-fetch state
    const bad = () => {
      throw new Error('listener bug');
    };
    hub.subscribe(bad);
    expect(() => hub.publish('progress', { type: 'done', task: 'x' })).not.toThrow();
    expect(hub.subscribers).toBe(0);
  });
});

describe('neuron pages from the store', () => {
  it('turns the store\'s non-empty bins into a contiguous histogram', async () => {
    const { contiguousHistogram } = await import('../src-main/engine/scanSource.js');
    expect(contiguousHistogram([])).toBeNull();
    expect(contiguousHistogram([{ lo: -1, hi: 0, count: 5 }, { lo: 0, hi: 1, count: 2 }, { lo: 3, hi: 4, count: 1 }])).toEqual({
      edges: [-1, 0, 1, 3, 4],
      counts: [5, 2, 0, 1],
    });
  });
});
