// Where the experiment store lives: an explicit path, else TEXTDREAM_DB, else the platform's per-user data folder
// (XDG on Linux, Application Support on macOS, %APPDATA% on Windows). The Electron shell passes its userData
// folder instead (`storePathIn(app.getPath('userData'))`), so the app and the CLI can share one file by setting
// TEXTDREAM_DB.
import { homedir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { settingsFromEnv } from '../environment.js';

export const STORE_FILE = 'textdream.db';
export const APP_DIR = 'textdream';

/** The per-user data folder for textdream on this platform (not created here). */
export function userDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = homedir()): string {
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', APP_DIR);
  const { appData, xdgDataHome } = settingsFromEnv(env).userData;
  if (platform === 'win32') return join(appData ?? join(home, 'AppData', 'Roaming'), APP_DIR);
  // XDG Base Directory: a relative XDG_DATA_HOME is invalid and must be ignored.
  const xdg = xdgDataHome;
  return join(xdg && isAbsolute(xdg) ? xdg : join(home, '.local', 'share'), APP_DIR);
}

/** The store file inside a folder (e.g. Electron's userData). */
export function storePathIn(dir: string): string {
  return join(dir, STORE_FILE);
}

/** `explicit` (a --db flag), else TEXTDREAM_DB, else the user data folder. `:memory:` passes through. */
export function resolveStorePath(explicit?: string, env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform): string {
  const chosen = explicit || settingsFromEnv(env).db;
  if (chosen === ':memory:') return chosen;
  if (chosen) return resolve(chosen.replace(/^~(?=[/\\]|$)/, homedir()));
  return storePathIn(userDataDir(env, platform));
}
