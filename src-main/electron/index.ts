/**
 * Electron entry: app lifecycle and the window, nothing else. Features live in small modules with
 * an `enable(ctx)` style entry (ipc.ts); engine code never imports electron.
 */
import { app, BrowserWindow } from 'electron';
import { installedNativePackages } from '../nativePackages';
import { storePathIn } from '../store/location';
import { startEngineHost } from './engineHost';
import { spawnComputeWindow, spawnUtilityProcess } from './engineSpawn';
import { engineHostKind } from './hostChoice';
import { enableIpc, relayEvents } from './ipc';
import { createMainWindow, denyPermissions, isAppUrl } from './window';
import { settingsFromEnv } from '../environment.js';

void app.whenReady().then(() => {
  denyPermissions();
  // Heavy compute (model, dreaming, corpus scans) never runs here: the engine lives in a utilityProcess (CPU
  // backends) or a hidden compute window (WebGPU, which only renderers have in Electron), and the IPC handlers
  // forward each call to it over a MessagePort. The workbench window is sandboxed (window.ts); the compute window
  // cannot be, since its preload hosts the engine.
  const env = settingsFromEnv();
  const backend = env.backend;
  const hostKind = engineHostKind(backend, {
    // tfjs-node(-gpu) installed: `auto` would run it first.
    nativeInstalled: installedNativePackages().length > 0,
    webgpuStatus: (app.getGPUFeatureStatus() as unknown as Record<string, string>)['webgpu'],
  });
  const engine = startEngineHost(
    { db: storePathIn(app.getPath('userData')), model: env.model, backend },
    hostKind === 'compute-window' ? spawnComputeWindow : spawnUtilityProcess,
  );
  enableIpc({ handlers: engine.handlers, isTrustedUrl: isAppUrl });
  relayEvents(engine, isAppUrl);

  // The hidden compute window is a window too: the app's lifetime follows the workbench window, not the count.
  let main: BrowserWindow | null = null;
  const openMain = () => {
    main = createMainWindow();
    main.on('closed', () => {
      main = null;
      if (process.platform !== 'darwin') app.quit();
    });
  };
  openMain();
  app.on('activate', () => {
    if (!main) openMain();
  });

  // Let the engine close its store before the app goes (a killed engine loses nothing, but a clean stop is faster
  // to reopen).
  let stopped = false;
  app.on('before-quit', (event) => {
    if (stopped) return;
    event.preventDefault();
    stopped = true;
    void engine.stop().finally(() => app.quit());
  });
});
