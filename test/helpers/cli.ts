// Run the CLI the two ways tests need: as a real child process (`node bin/textdream.js`, exactly what users
// run) and in-process through main() with captured output (same code path, no process start-up).
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { main } from '../../src-main/cli/main.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export const BIN = fileURLToPath(new URL('../../bin/textdream.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** process.env without settings that would change what the CLI does, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of Object.keys(env)) if (/^(TEXTDREAM_(MODEL|BACKEND)|HF_)/.test(k)) delete env[k];
  // Tests never write the user's own experiment store: a test names its store, or nothing is kept.
  return { ...env, TEXTDREAM_DB: env.TEXTDREAM_DB || ':memory:', ...extra };
}

/** `node bin/textdream.js ...args`, asynchronously (a test's own servers keep answering meanwhile). */
export function spawnCli(args: string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, env: cleanEnv(env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : -1), stdout, stderr });
    });
  });
}

/** main(args) in this process with output captured. */
export async function runCli(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const code = await main(args, {
    stdout: (s) => void (stdout += s),
    stderr: (s) => void (stderr += s),
    env: cleanEnv(env),
  });
  return { code, stdout, stderr };
}
