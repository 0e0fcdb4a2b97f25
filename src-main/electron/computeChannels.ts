/** IPC channel names of the compute-window handshake (computeWindow.ts ↔ compute-preload.ts). */
export const COMPUTE_CHANNELS = {
  ready: 'textdream:compute-ready',
  port: 'textdream:compute-port',
  stop: 'textdream:compute-stop',
  stopped: 'textdream:compute-stopped',
} as const;
