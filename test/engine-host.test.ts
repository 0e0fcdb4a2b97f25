// The desktop app's engine hosts without Electron: the same hosted engine (store + engine + contract) that the
// utility process and the hidden WebGPU compute window run, over a DOM-style MessagePort (what a renderer's
// preload receives; Node's global MessageChannel is one), and the choice of host from the backend asked for.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { domPortWire } from '../src-main/engine/domPortWire.js';
import { hostEngine } from '../src-main/engine/hostedEngine.js';
import { EngineUnavailableError, wireClient } from '../src-main/engine/rpc.js';
import { engineHostKind } from '../src-main/electron/hostChoice.js';
import { readSafetensorsFile } from '../src-main/model/safetensors.js';
import { expected, FIXTURE } from './helpers/shared.js';

const dir = mkdtempSync(join(tmpdir(), 'textdream-host-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('hosted engine over a DOM MessagePort', () => {
  it('serves the contract with the fixture\'s reference activations, and its store closes on shutdown', async () => {
    const db = join(dir, 'experiments.sqlite');
    const { port1, port2 } = new MessageChannel();
    const hosted = hostEngine({ db, model: FIXTURE, backend: 'wasm' }, domPortWire(port2));
    port2.start();
    port1.start();
    const client = wireClient(domPortWire(port1));
    try {
      // The start-up load was asked for in the settings: the model arrives without a call.
      let state = await client.handlers['models.state']();
      for (let i = 0; i < 300 && !state.current; i++) {
        await new Promise((r) => setTimeout(r, 100));
        state = await client.handlers['models.state']();
      }
      expect(state.current?.nLayer).toBe(2);
      const fox = expected.tokens.fox;
      const got = await client.handlers['neurons.activations']({ layer: 1, neuron: 5, text: fox.text });
      const ref = (await readSafetensorsFile(join(FIXTURE, 'expected.fox.safetensors'))).get('mlp_post.1')!;
      const M = ref.shape[1];
      expect(got).toHaveLength(fox.ids.length);
      got.forEach((tok, t) => expect(Math.abs(tok.value - ref.data[t * M + 5]), `token ${t}`).toBeLessThan(1e-4));
      // Errors cross the port with their names.
      await expect(client.handlers['neurons.activations']({ layer: 9, neuron: 0, text: 'x' })).rejects.toThrow(/layer/);
      expect(existsSync(`${db}-wal`), 'the store is open in WAL mode while the engine runs').toBe(true);
    } finally {
      await hosted.shutdown();
      client.close('test over');
      port1.close();
    }
    await expect(client.handlers['app.info']()).rejects.toBeInstanceOf(EngineUnavailableError);
    // SQLite removes the write-ahead log when the last connection closes: the shutdown closed the store.
    expect(existsSync(`${db}-wal`)).toBe(false);
  }, 60_000);
});

describe('engine host choice (desktop app)', () => {
  const none = { nativeInstalled: false, webgpuStatus: 'disabled_software' };
  it('puts WebGPU in the compute window and the CPU backends in the utility process', () => {
    expect(engineHostKind('webgpu', none)).toBe('compute-window');
    expect(engineHostKind(' WebGPU ', none)).toBe('compute-window');
    for (const b of ['tensorflow', 'wasm', 'cpu']) expect(engineHostKind(b, { nativeInstalled: false, webgpuStatus: 'enabled' })).toBe('utility-process');
  });
  it('follows the engine\'s auto order: native TensorFlow, then hardware WebGPU, then wasm', () => {
    expect(engineHostKind(undefined, { nativeInstalled: true, webgpuStatus: 'enabled' })).toBe('utility-process');
    expect(engineHostKind('auto', { nativeInstalled: false, webgpuStatus: 'enabled' })).toBe('compute-window');
    expect(engineHostKind('', { nativeInstalled: false, webgpuStatus: 'enabled' })).toBe('compute-window');
    expect(engineHostKind(undefined, none)).toBe('utility-process');
    expect(engineHostKind(undefined, { nativeInstalled: false, webgpuStatus: undefined })).toBe('utility-process');
  });
});
