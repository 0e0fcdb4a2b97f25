import type { TextdreamBridge } from '../src-main/api/contract';

declare global {
  interface Window {
    /** Present in the Electron window (exposed by the preload); absent when served over HTTP. */
    textdream?: TextdreamBridge;
  }
}

export {};
