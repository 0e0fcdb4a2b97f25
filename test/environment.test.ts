// Configuration from the environment is read in one place (src-main/environment.ts): every documented variable
// reaches its setting, no other module reads a variable by name, and `info --env` lists them with secrets hidden.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ENVIRONMENT_VARIABLES, settingsFromEnv } from '../src-main/environment.js';
import { hubCacheRoot } from '../src-main/model/hub.js';
import { resolveStorePath } from '../src-main/store/location.js';
import { runCli } from './helpers/cli.js';

const SRC = fileURLToPath(new URL('../src-main', import.meta.url));

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? sources(p) : p.endsWith('.ts') ? [p] : [];
  });
}

describe('one place reads the environment', () => {
  it('every documented variable reaches a setting, and an empty value counts as unset', () => {
    const env = Object.fromEntries(ENVIRONMENT_VARIABLES.map((v, i) => [v.name, `value-${i}`]));
    const s = settingsFromEnv({ ...env, HF_HUB_OFFLINE: 'yes' });
    const flat = JSON.stringify(s);
    for (const [i, v] of ENVIRONMENT_VARIABLES.entries()) {
      // OPENAI_BASE_URL is the fallback of TEXTDREAM_LLM_BASE_URL (checked below); HF_HUB_OFFLINE is a flag.
      if (v.name === 'OPENAI_BASE_URL' || v.name === 'HF_HUB_OFFLINE') continue;
      expect(flat, v.name).toContain(`"value-${i}"`);
    }
    expect(s.hub.offline).toBe(true);
    expect(settingsFromEnv({ OPENAI_BASE_URL: 'http://o/v1' }).llm.baseURL).toBe('http://o/v1');
    expect(settingsFromEnv({ OPENAI_BASE_URL: 'http://o/v1', TEXTDREAM_LLM_BASE_URL: 'http://t/v1' }).llm.baseURL).toBe('http://t/v1');
    expect(settingsFromEnv({ TEXTDREAM_MODEL: '', HF_HUB_OFFLINE: '0' })).toMatchObject({ model: undefined, hub: { offline: false } });
  });

  it('the modules that use a setting take it from there (hub cache, store path)', () => {
    expect(hubCacheRoot({ env: { HF_HUB_CACHE: '/c', HF_HOME: '/h' } })).toBe('/c');
    expect(hubCacheRoot({ env: { HF_HOME: '/h', XDG_CACHE_HOME: '/x' } })).toBe('/h/hub');
    expect(hubCacheRoot({ env: { XDG_CACHE_HOME: '/x' } })).toBe('/x/huggingface/hub');
    expect(resolveStorePath(undefined, { TEXTDREAM_DB: '/tmp/a.sqlite' })).toBe('/tmp/a.sqlite');
    expect(resolveStorePath(undefined, { XDG_DATA_HOME: '/d' }, 'linux')).toBe('/d/textdream/textdream.db');
  });

  it('no other module reads a variable by name', () => {
    const names = ENVIRONMENT_VARIABLES.map((v) => v.name);
    const offenders: string[] = [];
    for (const file of sources(SRC)) {
      if (file.endsWith('environment.ts')) continue;
      const code = readFileSync(file, 'utf8')
        .split('\n')
        .filter((l) => !/^\s*(\/\/|\*|\/\*)/.test(l))
        .join('\n');
      for (const n of names) if (new RegExp(`env(\\.|\\[['"])${n}\\b`).test(code)) offenders.push(`${relative(SRC, file)}: ${n}`);
    }
    expect(offenders).toEqual([]);
  });

  it('`info --env` lists every variable with its value here, tokens and keys hidden', async () => {
    const r = await runCli(['info', '--env', '--json'], { TEXTDREAM_MODEL: '/m', HF_TOKEN: 'secret-token', OPENAI_API_KEY: 'sk-secret' });
    expect(r.code).toBe(0);
    const rows: { name: string; value: string | null }[] = JSON.parse(r.stdout).environment;
    expect(rows.map((x) => x.name)).toEqual(ENVIRONMENT_VARIABLES.map((v) => v.name));
    expect(rows.find((x) => x.name === 'TEXTDREAM_MODEL')!.value).toBe('/m');
    expect(rows.find((x) => x.name === 'HF_TOKEN')!.value).toBe('(set, hidden)');
    expect(r.stdout).not.toMatch(/secret/);
  });
});
