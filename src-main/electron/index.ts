/**
 * Electron entry: app lifecycle and the window, nothing else. Features live in small modules with
 * an `enable(ctx)` style entry (ipc.ts); engine code never imports electron.
 */
import { app, BrowserWindow } from 'electron';
import { storePathIn } from '../store/location';
import { startEngineHost } from './engineHost';
import { enableIpc, relayEvents } from './ipc';
import { createMainWindow, denyPermissions, isAppUrl } from './window';

// Every renderer is sandboxed, whatever a window's options say. Must run before `ready`.
app.enableSandbox();

void app.whenReady().then(() => {
  denyPermissions();
  // Heavy compute (model, dreaming, corpus scans) never runs here: the engine is a utilityProcess and the
  // IPC handlers forward each call to it over a MessagePort (engineHost.ts).
  const engine = startEngineHost({
    db: storePathIn(app.getPath('userData')),
    model: process.env['TEXTDREAM_MODEL'] || undefined,
    backend: process.env['TEXTDREAM_BACKEND'] || undefined,
  });
  enableIpc({ handlers: engine.handlers, isTrustedUrl: isAppUrl });
  relayEvents(engine, isAppUrl);
  createMainWindow();

  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createMainWindow();
  });
  app.on('will-quit', () => engine.stop());
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
