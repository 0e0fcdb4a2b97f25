/**
 * The main window: locked-down webPreferences, the renderer entry (dev server or built file), and
 * navigation/permission hardening. The Content-Security-Policy lives in the renderer's index.html
 * (`<meta http-equiv>`), which applies both to the built file:// page and to the dev server.
 */
import { BrowserWindow, session, shell } from 'electron';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { settingsFromEnv } from '../environment.js';

/** Built layout (electron-vite): out/main/index.js, out/preload/index.cjs, out/renderer/index.html. */
const PRELOAD_PATH = join(import.meta.dirname, '../preload/index.cjs');
const RENDERER_HTML = join(import.meta.dirname, '../renderer/index.html');

/** Set by `electron-vite dev` to the renderer dev server; absent in a built app. */
function devServerUrl(): string | null {
  return settingsFromEnv().electronRendererURL ?? null;
}

/** True for our own renderer page (and only it): the built index.html or the dev server origin. */
export function isAppUrl(raw: string): boolean {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return false;
  }
  const dev = devServerUrl();
  if (dev !== null) return url.origin === new URL(dev).origin;
  return url.protocol === 'file:' && url.pathname === pathToFileURL(RENDERER_HTML).pathname;
}

/** Deny every permission request (camera, notifications, ...): the workbench needs none. */
export function denyPermissions(): void {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
}

export function createMainWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1200,
    height: 800,
    show: false,
    title: 'textdream',
    webPreferences: {
      preload: PRELOAD_PATH,
      contextIsolation: true,
      nodeIntegration: false,
      sandbox: true,
      webSecurity: true,
    },
  });

  win.once('ready-to-show', () => win.show());

  // No new windows; https links open in the user's browser.
  win.webContents.setWindowOpenHandler(({ url }) => {
    if (url.startsWith('https://')) void shell.openExternal(url);
    return { action: 'deny' };
  });
  // The page never navigates away from the app.
  win.webContents.on('will-navigate', (event, url) => {
    if (!isAppUrl(url)) event.preventDefault();
  });

  const dev = devServerUrl();
  if (dev !== null) void win.loadURL(dev);
  else void win.loadFile(RENDERER_HTML);
  return win;
}
