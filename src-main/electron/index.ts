/**
 * Electron entry: app lifecycle and the window, nothing else. Features live in small modules with
 * an `enable(ctx)` style entry (ipc.ts); engine code never imports electron.
 */
import { app, BrowserWindow } from 'electron';
import { createApiHandlers } from './handlers';
import { enableIpc } from './ipc';
import { createMainWindow, denyPermissions, isAppUrl } from './window';

// Every renderer is sandboxed, whatever a window's options say. Must run before `ready`.
app.enableSandbox();

void app.whenReady().then(() => {
  denyPermissions();
  // Heavy compute (model, dreaming, corpus scans) must never run here on the main thread: the engine
  // will be hosted in a utilityProcess and reached from the handlers (see handlers.ts).
  enableIpc({ handlers: createApiHandlers(), isTrustedUrl: isAppUrl });
  createMainWindow();

  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) createMainWindow();
  });
});

app.on('window-all-closed', () => {
  if (process.platform !== 'darwin') app.quit();
});
