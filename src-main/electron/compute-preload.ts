/**
 * Preload of the hidden compute window (out/main/compute.mjs), the engine's host for the WebGPU backend: Electron's
 * own navigator.gpu lives in renderers (the npm `webgpu` package cannot load inside Electron), and a preload of an
 * unsandboxed, context-isolated window has both it and Node. The window shows nothing and loads no remote content.
 *
 * Handshake: the preload asks for its port once it listens (an ESM preload may run after the page has loaded, so
 * the main process must not send first); the main process answers with the settings and a MessagePort, and later
 * 'stop', after which the engine closes its store and says 'stopped' so that the window can go.
 */
import { ipcRenderer } from 'electron';
import { domPortWire, type DomPortLike } from '../engine/domPortWire';
import { hostEngine, type EngineProcessSettings, type HostedEngine } from '../engine/hostedEngine';
import { COMPUTE_CHANNELS } from './computeChannels';

let hosted: HostedEngine | null = null;

ipcRenderer.once(COMPUTE_CHANNELS.port, (event, settings: EngineProcessSettings) => {
  const [port] = event.ports as unknown as DomPortLike[];
  if (!port) throw new Error('compute window: the engine-port message must carry a MessagePort');
  hosted = hostEngine(settings, domPortWire(port));
  port.start();
});

ipcRenderer.once(COMPUTE_CHANNELS.stop, () => {
  void (hosted?.shutdown() ?? Promise.resolve()).finally(() => ipcRenderer.send(COMPUTE_CHANNELS.stopped));
});

ipcRenderer.send(COMPUTE_CHANNELS.ready);
