// The one place that reads configuration from the environment. Every other module takes these settings (or an
// `env` it passes here) instead of reading process.env itself, so the variables, their meaning and their
// defaults are listed once (`textdream info --env` prints them) and tests can inject any environment.

export interface EnvironmentSettings {
  /** TEXTDREAM_MODEL: the model when `--model` is not given. */
  model?: string;
  /** TEXTDREAM_BACKEND: the tfjs backend when `--backend` is not given. */
  backend?: string;
  /** TEXTDREAM_DB: the experiment store when `--db` is not given. */
  db?: string;
  /** TEXTDREAM_RESOURCES: the shipped resources folder (a packaged app's). */
  resources?: string;
  /** TEXTDREAM_JUDGE: a readability judge file instead of the shipped one. */
  judge?: string;
  /** TEXTDREAM_TOKEN: the server's bearer token when `--token` is not given. */
  token?: string;
  /** TEXTDREAM_WEBGPU_MAX_BINDING: cap on WebGPU storage-buffer bindings (bytes). */
  webgpuMaxBinding?: string;
  llm: {
    /** TEXTDREAM_LLM_BASE_URL, else OPENAI_BASE_URL. */
    baseURL?: string;
    /** TEXTDREAM_LLM_MODEL. */
    model?: string;
    /** TEXTDREAM_LLM_TIMEOUT_MS (validated where it is used). */
    timeoutMs?: string;
    /** OPENAI_API_KEY. */
    apiKey?: string;
  };
  hub: {
    /** HF_HOME: the hub cache is `<HF_HOME>/hub`. */
    home?: string;
    /** HF_HUB_CACHE: the hub cache itself. */
    cache?: string;
    /** HF_ENDPOINT. */
    endpoint?: string;
    /** HF_HUB_OFFLINE: never touch the network. */
    offline: boolean;
    /** HF_TOKEN. */
    token?: string;
    /** XDG_CACHE_HOME: the hub cache is `<XDG_CACHE_HOME>/huggingface/hub` when neither HF_ variable is set. */
    xdgCacheHome?: string;
  };
  /** Where per-user data goes when TEXTDREAM_DB is unset: APPDATA (Windows), XDG_DATA_HOME (elsewhere). */
  userData: { appData?: string; xdgDataHome?: string };
  /** HOME: what a leading `~/` in a path means. */
  home?: string;
  /** ELECTRON_RENDERER_URL: electron-vite's dev server, when the app runs from it. */
  electronRendererURL?: string;
}

/** Every variable read, with what it sets: `textdream info --env` and the README list these. */
export const ENVIRONMENT_VARIABLES: readonly { name: string; sets: string }[] = [
  { name: 'TEXTDREAM_MODEL', sets: 'the model when --model is not given (a folder or a hub id)' },
  { name: 'TEXTDREAM_BACKEND', sets: 'the TensorFlow.js backend when --backend is not given (auto, tensorflow, webgpu, wasm, cpu)' },
  { name: 'TEXTDREAM_DB', sets: 'the experiment store when --db is not given (a file, or :memory:)' },
  { name: 'TEXTDREAM_RESOURCES', sets: "the shipped resources folder (a packaged app's)" },
  { name: 'TEXTDREAM_JUDGE', sets: 'a readability judge file instead of the shipped one' },
  { name: 'TEXTDREAM_TOKEN', sets: "the server's bearer token when --token is not given" },
  { name: 'TEXTDREAM_WEBGPU_MAX_BINDING', sets: 'a cap on WebGPU storage-buffer bindings, in bytes' },
  { name: 'TEXTDREAM_LLM_BASE_URL', sets: 'the OpenAI-compatible endpoint of the explainer and simulator' },
  { name: 'TEXTDREAM_LLM_MODEL', sets: 'the model name that endpoint serves' },
  { name: 'TEXTDREAM_LLM_TIMEOUT_MS', sets: 'the time-out of one LLM request, in ms' },
  { name: 'OPENAI_API_KEY', sets: 'the key sent to the LLM endpoint (OpenAI itself when no base URL is set)' },
  { name: 'OPENAI_BASE_URL', sets: 'the LLM endpoint when TEXTDREAM_LLM_BASE_URL is unset' },
  { name: 'HF_HOME', sets: 'the Hugging Face folder; the hub cache is <HF_HOME>/hub' },
  { name: 'HF_HUB_CACHE', sets: 'the hub cache itself' },
  { name: 'HF_ENDPOINT', sets: 'the hub to download from' },
  { name: 'HF_HUB_OFFLINE', sets: 'never download (1, true, yes, on)' },
  { name: 'HF_TOKEN', sets: 'the token for gated or private hub repositories' },
  { name: 'XDG_CACHE_HOME', sets: 'where the hub cache goes when neither HF_HOME nor HF_HUB_CACHE is set (<XDG_CACHE_HOME>/huggingface/hub)' },
  { name: 'XDG_DATA_HOME', sets: 'where the per-user experiment store goes (Linux; APPDATA on Windows)' },
  { name: 'HOME', sets: 'what a leading ~/ in a path means' },
  { name: 'ELECTRON_RENDERER_URL', sets: "electron-vite's dev server, when the app runs from it" },
];

const set = (v: string | undefined): string | undefined => (v === undefined || v === '' ? undefined : v);

/** `1`, `true`, `yes`, `on` (any case). */
export function isTruthy(v: string | undefined): boolean {
  return !!v && /^(1|true|yes|on)$/i.test(v.trim());
}

export function settingsFromEnv(env: NodeJS.ProcessEnv = process.env): EnvironmentSettings {
  return {
    model: set(env.TEXTDREAM_MODEL),
    backend: set(env.TEXTDREAM_BACKEND),
    db: set(env.TEXTDREAM_DB),
    resources: set(env.TEXTDREAM_RESOURCES),
    judge: set(env.TEXTDREAM_JUDGE),
    token: set(env.TEXTDREAM_TOKEN),
    webgpuMaxBinding: set(env.TEXTDREAM_WEBGPU_MAX_BINDING),
    llm: {
      baseURL: set(env.TEXTDREAM_LLM_BASE_URL) ?? set(env.OPENAI_BASE_URL),
      model: set(env.TEXTDREAM_LLM_MODEL),
      timeoutMs: set(env.TEXTDREAM_LLM_TIMEOUT_MS),
      apiKey: set(env.OPENAI_API_KEY),
    },
    hub: { home: set(env.HF_HOME), cache: set(env.HF_HUB_CACHE), endpoint: set(env.HF_ENDPOINT), offline: isTruthy(env.HF_HUB_OFFLINE), token: set(env.HF_TOKEN), xdgCacheHome: set(env.XDG_CACHE_HOME) },
    userData: { appData: set(env.APPDATA), xdgDataHome: set(env.XDG_DATA_HOME) },
    home: set(env.HOME),
    electronRendererURL: set(env.ELECTRON_RENDERER_URL),
  };
}
