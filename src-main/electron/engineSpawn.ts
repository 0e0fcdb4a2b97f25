/**
 * The two processes that can host the engine, behind one shape: a port to it, an exit notification and a kill.
 *  - utility process (out/main/engine.js): tensorflow, wasm, cpu;
 *  - hidden compute window (preload out/main/compute.mjs): WebGPU through Electron's navigator.gpu.
 */
import { BrowserWindow, ipcMain, MessageChannelMain, utilityProcess, type IpcMainEvent, type MessagePortMain } from 'electron';
import { join } from 'node:path';
import type { EngineProcessSettings } from '../engine/hostedEngine';
import { COMPUTE_CHANNELS } from './computeChannels';

/** Built layout: out/main/index.js (main) beside out/main/engine.js and out/main/compute.mjs. */
const ENGINE_ENTRY = join(import.meta.dirname, 'engine.js');
const COMPUTE_PRELOAD = join(import.meta.dirname, 'compute.mjs');

export interface SpawnedEngine {
  /** The main process's end of the contract's port. */
  port: MessagePortMain;
  /** Called once when the host is gone, whatever the cause. */
  onExit(listener: (reason: string) => void): void;
  /** Ask the host to close its store and go; force it after a grace period. */
  stop(): void;
}

export function spawnUtilityProcess(settings: EngineProcessSettings): SpawnedEngine {
  const proc = utilityProcess.fork(ENGINE_ENTRY, [], { serviceName: 'textdream engine', stdio: 'inherit' });
  const { port1, port2 } = new MessageChannelMain();
  proc.postMessage(settings, [port2]);
  return {
    port: port1,
    onExit: (listener) => void proc.once('exit', (code) => listener(`the engine process exited (code ${code})`)),
    stop: () => void proc.kill(),
  };
}

const STOP_GRACE_MS = 5000;

export function spawnComputeWindow(settings: EngineProcessSettings): SpawnedEngine {
  const win = new BrowserWindow({
    show: false,
    title: 'textdream compute',
    webPreferences: {
      preload: COMPUTE_PRELOAD,
      // The preload needs Node (model files, the store) and the renderer's WebGPU; the page itself is empty, has no
      // Node and never navigates, and no remote content is ever loaded into this window.
      sandbox: false,
      contextIsolation: true,
      nodeIntegration: false,
      backgroundThrottling: false,
    },
  });
  const { port1, port2 } = new MessageChannelMain();
  const fromThisWindow = (e: IpcMainEvent) => e.sender === win.webContents;
  const onReady = (e: IpcMainEvent) => {
    if (!fromThisWindow(e)) return;
    ipcMain.off(COMPUTE_CHANNELS.ready, onReady);
    win.webContents.postMessage(COMPUTE_CHANNELS.port, settings, [port2]);
  };
  ipcMain.on(COMPUTE_CHANNELS.ready, onReady);
  const onStopped = (e: IpcMainEvent) => {
    if (fromThisWindow(e) && !win.isDestroyed()) win.destroy();
  };
  ipcMain.on(COMPUTE_CHANNELS.stopped, onStopped);
  win.webContents.on('will-navigate', (event) => event.preventDefault());
  win.webContents.setWindowOpenHandler(() => ({ action: 'deny' }));
  void win.loadURL('data:text/html;charset=utf-8,<!doctype html><title>textdream compute</title>');

  const exitListeners: Array<(reason: string) => void> = [];
  let gone = false;
  const exit = (reason: string) => {
    if (gone) return;
    gone = true;
    ipcMain.off(COMPUTE_CHANNELS.ready, onReady);
    ipcMain.off(COMPUTE_CHANNELS.stopped, onStopped);
    exitListeners.forEach((l) => l(reason));
  };
  win.webContents.on('render-process-gone', (_e, details) => exit(`the compute window's process is gone (${details.reason})`));
  win.on('closed', () => exit('the compute window was closed'));
  return {
    port: port1,
    onExit: (listener) => void exitListeners.push(listener),
    stop: () => {
      if (win.isDestroyed()) return;
      win.webContents.send(COMPUTE_CHANNELS.stop);
      setTimeout(() => !win.isDestroyed() && win.destroy(), STOP_GRACE_MS).unref();
    },
  };
}
