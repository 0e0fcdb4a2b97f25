// Sparse autoencoders in SAELens's on-disk layout: small SAE folders written here, whose weights (identities,
// permutations, diagonal scalings) make the expected latents a closed form, checked per architecture, per
// normalisation, for centring, for gradients, for memory, and for every refusal.
import * as tf from '@tensorflow/tfjs-core';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../src-main/backend.js';
import { ModelFileError } from '../src-main/model/errors.js';
import { ModelInputError } from '../src-main/model/gpt2.js';
import { hookName } from '../src-main/model/hooks.js';
import { writeSafetensorsFile } from '../src-main/model/safetensors.js';
import { parseSaeConfig } from '../src-main/sae/config.js';
import { loadSae, type LoadSaeOptions, type Sae } from '../src-main/sae/load.js';

let tmp: string;
let serial = 0;

beforeAll(async () => {
  expect((await initBackend('wasm')).name).toBe('wasm');
  tmp = await mkdtemp(join(tmpdir(), 'textdream-sae-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

type Weights = Record<string, { shape: number[]; data: number[] }>;

/** An SAE folder: cfg.json (an object, or raw text) and, unless null, sae_weights.safetensors. */
async function saeFolder(cfg: unknown, weights: Weights | null, extra: Record<string, string> = {}): Promise<string> {
  const dir = join(tmp, `sae-${++serial}`);
  await mkdir(dir);
  await writeFile(join(dir, 'cfg.json'), typeof cfg === 'string' ? cfg : JSON.stringify(cfg));
  if (weights) {
    const tensors = Object.entries(weights).map(([name, t]) => ({ name, shape: t.shape, data: Float32Array.from(t.data), dtype: 'F32' as const }));
    await writeSafetensorsFile(join(dir, 'sae_weights.safetensors'), tensors);
  }
  for (const [name, text] of Object.entries(extra)) await writeFile(join(dir, name), text);
  return dir;
}

/** A SAELens 6 cfg.json. */
function cfg6(fields: Record<string, unknown>, metadata: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architecture: 'standard',
    d_in: 4,
    d_sae: 4,
    dtype: 'float32',
    device: 'cpu',
    apply_b_dec_to_input: false,
    normalize_activations: 'none',
    reshape_activations: 'none',
    ...fields,
    metadata: { sae_lens_version: '6.5.0', model_name: 'gpt2-small', hook_name: 'blocks.2.hook_resid_pre', prepend_bos: true, ...metadata },
  };
}

const eye = (n: number, scale = 1) => Array.from({ length: n * n }, (_, i) => (i % (n + 1) === 0 ? scale : 0));
const diag = (v: number[]) => v.flatMap((x, i) => v.map((_, j) => (i === j ? x : 0)));
const zeros = (n: number) => new Array<number>(n).fill(0);

/** Weights of a d-wide SAE with W_enc = scale·I, W_dec = I. */
function identityWeights(d: number, o: { scale?: number; bEnc?: number[]; bDec?: number[]; threshold?: number[] } = {}): Weights {
  const w: Weights = {
    W_enc: { shape: [d, d], data: eye(d, o.scale ?? 1) },
    b_enc: { shape: [d], data: o.bEnc ?? zeros(d) },
    W_dec: { shape: [d, d], data: eye(d) },
    b_dec: { shape: [d], data: o.bDec ?? zeros(d) },
  };
  if (o.threshold) w.threshold = { shape: [d], data: o.threshold };
  return w;
}

/**
 * W_enc = [I, −I], W_dec = [I; −I]: latents are the positive and negative parts of x − b_dec, and decoding adds them
 * back, so decode(encode(x)) = x exactly for a standard SAE.
 */
function splitWeights(d: number, bDec: number[]): Weights {
  const enc: number[] = [];
  for (let i = 0; i < d; i++) for (let j = 0; j < 2 * d; j++) enc.push(j === i ? 1 : j === i + d ? -1 : 0);
  const dec: number[] = [];
  for (let j = 0; j < 2 * d; j++) for (let i = 0; i < d; i++) dec.push(j === i ? 1 : j === i + d ? -1 : 0);
  return {
    W_enc: { shape: [d, 2 * d], data: enc },
    b_enc: { shape: [2 * d], data: zeros(2 * d) },
    W_dec: { shape: [2 * d, d], data: dec },
    b_dec: { shape: [d], data: bDec },
  };
}

async function load(cfg: unknown, weights: Weights | null, opts?: LoadSaeOptions, extra?: Record<string, string>): Promise<Sae> {
  return loadSae(await saeFolder(cfg, weights, extra), opts);
}

/** Runs f on a tensor made from rows, returns its values flat and its shape; nothing is left allocated. */
function run(rows: number[][] | number[][][], f: (x: tf.Tensor) => tf.Tensor): { values: number[]; shape: number[] } {
  return tf.tidy(() => {
    const out = f(tf.tensor(rows));
    return { values: Array.from(out.dataSync()), shape: out.shape };
  });
}

function expectClose(actual: number[], expected: number[], digits = 5): void {
  expect(actual.length).toBe(expected.length);
  actual.forEach((a, i) => expect(a, `index ${i}: ${actual} vs ${expected}`).toBeCloseTo(expected[i], digits));
}

async function loadError(cfg: unknown, weights: Weights | null, opts?: LoadSaeOptions): Promise<ModelFileError> {
  const err = await load(cfg, weights, opts).then(
    (sae) => {
      sae.dispose();
      return null;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ModelFileError);
  return err as ModelFileError;
}

describe('standard', () => {
  it('encodes relu(x·W_enc + b_enc) without b_dec, keeping the leading dimensions', async () => {
    const sae = await load(cfg6({ apply_b_dec_to_input: false }), identityWeights(4, { scale: 2, bEnc: [0, -1, 0.5, 0], bDec: [1, 1, 1, 1] }));
    expect(sae.config.hook).toEqual({ layer: 2, site: 'hook_resid_pre', name: hookName(2, 'hook_resid_pre') });
    expect(sae.config.architecture).toBe('standard');
    const x = [[[1, -2, 3, 0.25]], [[0, 0, 0, 0]]]; // [2, 1, 4]
    const enc = run(x, (t) => sae.encode(t));
    expect(enc.shape).toEqual([2, 1, 4]);
    expectClose(enc.values, [2, 0, 6.5, 0.5, 0, 0, 0.5, 0]);
    expectClose(run(x, (t) => sae.preActivation(t)).values, [2, -5, 6.5, 0.5, 0, -1, 0.5, 0]);
    sae.dispose();
  });

  it('subtracts b_dec from the input when apply_b_dec_to_input is true', async () => {
    const sae = await load(cfg6({ apply_b_dec_to_input: true }), identityWeights(4, { scale: 2, bEnc: [0, -1, 0.5, 0], bDec: [1, 1, 1, 1] }));
    // pre = 2·(x − 1) + b_enc
    expectClose(run([[1, -2, 3, 0.25]], (t) => sae.preActivation(t)).values, [0, -7, 4.5, -1.5]);
    expectClose(run([[1, -2, 3, 0.25]], (t) => sae.encode(t)).values, [0, 0, 4.5, 0]);
    sae.dispose();
  });

  it('reads a permuted, non-square encoder into the right latents', async () => {
    // Latent j reads input perm[j]; latents 4 and 5 read −x0 and x3 + x1.
    const perm = [2, 0, 3, 1];
    const enc = new Array<number>(4 * 6).fill(0);
    perm.forEach((i, j) => (enc[i * 6 + j] = 1));
    enc[0 * 6 + 4] = -1;
    enc[3 * 6 + 5] = 1;
    enc[1 * 6 + 5] = 1;
    const sae = await load(cfg6({ d_sae: 6 }), {
      W_enc: { shape: [4, 6], data: enc },
      b_enc: { shape: [6], data: zeros(6) },
      W_dec: { shape: [6, 4], data: zeros(24) },
      b_dec: { shape: [4], data: zeros(4) },
    });
    expectClose(run([[-1, 2, 3, 4]], (t) => sae.encode(t)).values, [3, 0, 4, 2, 1, 6]);
    sae.dispose();
  });

  it('decode(encode(x), x) gives x back for an identity-like SAE under every normalisation and centring', async () => {
    const x = [
      [0.3, -1.2, 2.5, 0.7],
      [-0.4, 0.9, 0.1, -2.2],
    ];
    const variants: [Record<string, unknown>, Record<string, unknown>, LoadSaeOptions?][] = [
      [{ normalize_activations: 'none' }, {}],
      [{ normalize_activations: 'constant_norm_rescale' }, {}],
      [{ normalize_activations: 'layer_norm' }, {}],
      [{ normalize_activations: 'expected_average_only_in' }, {}, { normScalingFactor: 3 }],
      [{ normalize_activations: 'constant_norm_rescale' }, { model_from_pretrained_kwargs: { center_writing_weights: true } }],
    ];
    for (const [fields, meta, opts] of variants) {
      const sae = await load(cfg6({ ...fields, apply_b_dec_to_input: true, d_sae: 8 }, meta), splitWeights(4, [0.1, -0.2, 0.3, 0.05]), opts);
      const back = run(x, (t) => sae.decode(sae.encode(t), t));
      expectClose(back.values, x.flat(), 4);
      sae.dispose();
    }
  });
});

describe('jumprelu', () => {
  it('keeps relu(pre) only where pre is strictly above the threshold', async () => {
    const sae = await load(cfg6({ architecture: 'jumprelu' }), identityWeights(4, { threshold: [0.5, 0.5, -1, 2] }));
    const x = [
      [0.49, 0.51, -0.5, 2.5], // below, above, above but negative (relu → 0), above
      [0.5, 0.6, -2, 2], // exactly at the threshold is off
    ];
    expectClose(run(x, (t) => sae.encode(t)).values, [0, 0.51, 0, 2.5, 0, 0.6, 0, 0]);
    // The pre-activation ignores the threshold.
    expectClose(run(x, (t) => sae.preActivation(t)).values, x.flat());
    sae.dispose();
  });
});

describe('topk', () => {
  it('keeps exactly the k largest pre-activations, relu applied after the choice (k at top level)', async () => {
    const sae = await load(cfg6({ architecture: 'topk', k: 2 }), identityWeights(4));
    expect(sae.config.k).toBe(2);
    const x = [
      [3, -1, 5, 2],
      [-1, -2, -3, -4], // the top 2 are negative: relu zeroes them
      [1, -3, 0.5, 4],
    ];
    expectClose(run(x, (t) => sae.encode(t)).values, [3, 0, 5, 0, 0, 0, 0, 0, 1, 0, 0, 4]);
    sae.dispose();
  });

  it('matches a sort-based reference on a wider SAE, k from activation_fn_kwargs', async () => {
    const dIn = 4;
    const dSae = 12;
    const k = 3;
    const rand = lcg(7);
    const W = Array.from({ length: dIn * dSae }, () => rand() * 2 - 1);
    const b = Array.from({ length: dSae }, () => rand() * 0.5);
    const sae = await load(cfg6({ architecture: 'topk', d_sae: dSae, activation_fn_kwargs: { k } }), {
      W_enc: { shape: [dIn, dSae], data: W },
      b_enc: { shape: [dSae], data: b },
      W_dec: { shape: [dSae, dIn], data: zeros(dSae * dIn) },
      b_dec: { shape: [dIn], data: zeros(dIn) },
    });
    const xs = Array.from({ length: 5 }, () => Array.from({ length: dIn }, () => rand() * 4 - 2));
    const got = run(xs, (t) => sae.encode(t)).values;
    xs.forEach((x, r) => {
      const pre = b.map((bj, j) => bj + x.reduce((s, xi, i) => s + xi * W[i * dSae + j], 0));
      const top = [...pre.keys()].sort((p, q) => pre[q] - pre[p]).slice(0, k);
      const want = pre.map((v, j) => (top.includes(j) ? Math.max(v, 0) : 0));
      expectClose(got.slice(r * dSae, (r + 1) * dSae), want, 4);
      expect(got.slice(r * dSae, (r + 1) * dSae).filter((v) => v !== 0).length).toBeLessThanOrEqual(k);
    });
    sae.dispose();
  });

  it('with rescale_acts_by_decoder_norm chooses on pre·‖W_dec row‖ and divides it out to decode', async () => {
    const w = identityWeights(4);
    w.W_dec = { shape: [4, 4], data: diag([2, 1, 1, 0.5]) };
    const sae = await load(cfg6({ architecture: 'topk', k: 1, rescale_acts_by_decoder_norm: true }), w);
    // pre = x·‖row‖ = [2, 1.5, 0.2, 1.5]: latent 0 wins although x3 is the largest input.
    const f = run([[1, 1.5, 0.2, 3]], (t) => sae.encode(t)).values;
    expectClose(f, [2, 0, 0, 0]);
    // decode: (f / ‖row‖)·W_dec = [1, 0, 0, 0]·diag(2, 1, 1, 0.5)
    expectClose(run([f], (t) => sae.decode(t)).values, [2, 0, 0, 0]);
    sae.dispose();
  });
});

describe('old flat configs', () => {
  it('reads hook_point and activation_fn_str "relu" as a standard SAE (apply_b_dec_to_input on)', async () => {
    const flat = {
      model_name: 'gpt2-small',
      hook_point: 'blocks.8.hook_resid_pre',
      hook_point_layer: 8,
      hook_point_head_index: null,
      d_in: 4,
      d_sae: 4,
      activation_fn_str: 'relu',
      apply_b_dec_to_input: true,
      normalize_activations: false,
      dtype: 'torch.float32',
    };
    const sae = await load(flat, identityWeights(4, { scale: 3, bEnc: [1, 0, 0, 0], bDec: [0.5, 0.5, -1, 0] }));
    expect(sae.config).toMatchObject({ architecture: 'standard', hook: { layer: 8, site: 'hook_resid_pre' }, centreInput: false, prependBos: true, modelName: 'gpt2-small' });
    // 3·(x − b_dec) + b_enc
    expectClose(run([[1, 0.2, -2, 1]], (t) => sae.encode(t)).values, [2.5, 0, 0, 3]);
    sae.dispose();
  });

  it('reads a 5.x flat topk config (hook_name, activation_fn_str "topk", activation_fn_kwargs.k)', async () => {
    const flat = {
      architecture: 'standard',
      hook_name: 'blocks.3.hook_mlp_out',
      hook_layer: 3,
      d_in: 4,
      d_sae: 4,
      activation_fn_str: 'topk',
      activation_fn_kwargs: { k: 1 },
      apply_b_dec_to_input: false,
      normalize_activations: 'none',
      sae_lens_training_version: '5.3.0',
      model_from_pretrained_kwargs: { center_writing_weights: false },
    };
    const sae = await load(flat, identityWeights(4));
    expect(sae.config).toMatchObject({ architecture: 'topk', k: 1, hook: { layer: 3, site: 'hook_mlp_out', name: 'blocks.3.hook_mlp_out' } });
    expectClose(run([[1, 4, -2, 3]], (t) => sae.encode(t)).values, [0, 4, 0, 0]);
    sae.dispose();
  });

  it('reads hook_resid_post', () => {
    const c = parseSaeConfig(cfg6({}, { hook_name: 'blocks.11.hook_resid_post' }));
    expect(c.hook).toEqual({ layer: 11, site: 'hook_resid_post', name: 'blocks.11.hook_resid_post' });
  });
});

describe('normalisation', () => {
  it('constant_norm_rescale scales each token to norm √d_in before b_dec, and decode needs x to undo it', async () => {
    const sae = await load(cfg6({ normalize_activations: 'constant_norm_rescale', apply_b_dec_to_input: true }), identityWeights(4, { bDec: [0.2, 0, 0, 0] }));
    // x = [3, 4, 0, 0] has norm 5; √4 / 5 = 0.4 → [1.2, 1.6, 0, 0]; minus b_dec → [1, 1.6, 0, 0].
    const x = [
      [3, 4, 0, 0],
      [0, 0, -6, 8],
    ];
    const f = run(x, (t) => sae.encode(t)).values;
    expectClose(f, [1, 1.6, 0, 0, 0, 0, 0, 1.6]); // row 2: [0, 0, −1.2, 1.6] − b_dec, then relu
    // Decoding: f·I + b_dec = [1.2, 1.6, 0, 0], divided by 0.4.
    expectClose(
      run(x, (t) => sae.decode(tf.tensor(f, [2, 4]), t)).values.slice(0, 4),
      [3, 4, 0, 0],
    );
    expect(() => tf.tidy(() => sae.decode(tf.tensor(f, [2, 4])))).toThrow(/constant_norm_rescale/);
    sae.dispose();
  });

  it('layer_norm standardises each token with the unbiased std + 1e-5', async () => {
    const sae = await load(cfg6({ normalize_activations: 'layer_norm' }), identityWeights(4));
    const std = Math.sqrt(5 / 3); // of [1, 2, 3, 4] around 2.5, over n − 1
    expectClose(run([[1, 2, 3, 4]], (t) => sae.preActivation(t)).values, [-1.5, -0.5, 0.5, 1.5].map((c) => c / (std + 1e-5)));
    sae.dispose();
  });

  it('expected_average_only_in multiplies by activation_scaler.json\'s factor, or the one given, and refuses without one', async () => {
    const c = cfg6({ normalize_activations: 'expected_average_only_in' });
    const scaler = { 'activation_scaler.json': JSON.stringify({ scaling_factor: 0.5 }) };
    const fromFile = await load(c, identityWeights(4), {}, scaler);
    expect(fromFile.config.normalization).toEqual({ kind: 'expected_average_only_in', scalingFactor: 0.5 });
    expectClose(run([[2, 4, -2, 1]], (t) => fromFile.encode(t)).values, [1, 2, 0, 0.5]);
    // decode without x divides the factor back out: (f·I + 0) / 0.5
    expectClose(run([[1, 2, 0, 0.5]], (t) => fromFile.decode(t)).values, [2, 4, 0, 1]);
    fromFile.dispose();

    const given = await load(c, identityWeights(4), { normScalingFactor: 2 }, scaler);
    expectClose(run([[2, 4, -2, 1]], (t) => given.encode(t)).values, [4, 8, 0, 2]);
    given.dispose();

    const err = await loadError(c, identityWeights(4));
    expect(err.message).toMatch(/cfg\.json: normalize_activations "expected_average_only_in" needs the activation scaling factor/);
    expect(err.message).toMatch(/activation_scaler\.json/);
  });

  it('refuses an unknown normalisation, naming the supported ones', async () => {
    const err = await loadError(cfg6({ normalize_activations: 'batch_norm' }), identityWeights(4));
    expect(err.message).toContain('normalize_activations "batch_norm" is not supported (supported: none, constant_norm_rescale, expected_average_only_in, layer_norm)');
  });
});

describe('centred input', () => {
  it('subtracts each token\'s mean when the SAE was trained on a centred stream', async () => {
    const sae = await load(cfg6({}, { model_from_pretrained_kwargs: { center_writing_weights: true } }), identityWeights(4));
    expect(sae.config.centreInput).toBe(true);
    // mean of [1, 2, 3, 6] is 3
    expectClose(run([[1, 2, 3, 6]], (t) => sae.preActivation(t)).values, [-2, -1, 0, 3]);
    expectClose(run([[1, 2, 3, 6]], (t) => sae.encode(t)).values, [0, 0, 0, 3]);
    sae.dispose();
  });

  it('takes centring from cfgOverrides laid over a flat config, as a release\'s config_overrides', async () => {
    const flat = { hook_point: 'blocks.0.hook_resid_pre', d_in: 4, d_sae: 4, apply_b_dec_to_input: false };
    const plain = await load(flat, identityWeights(4));
    expect(plain.config.centreInput).toBe(false);
    plain.dispose();
    const centred = await load(flat, identityWeights(4), { cfgOverrides: { model_from_pretrained_kwargs: { center_writing_weights: true } } });
    expect(centred.config.centreInput).toBe(true);
    expectClose(run([[1, 2, 3, 6]], (t) => centred.encode(t)).values, [0, 0, 0, 3]);
    centred.dispose();
  });
});

describe('gradients', () => {
  it('preActivation is differentiable in x and matches central finite differences for one latent', async () => {
    const dIn = 6;
    const dSae = 5;
    const rand = lcg(11);
    const sae = await load(
      cfg6(
        { architecture: 'jumprelu', d_in: dIn, d_sae: dSae, apply_b_dec_to_input: true, normalize_activations: 'constant_norm_rescale' },
        { model_from_pretrained_kwargs: { center_writing_weights: true } },
      ),
      {
        W_enc: { shape: [dIn, dSae], data: Array.from({ length: dIn * dSae }, () => rand() * 2 - 1) },
        b_enc: { shape: [dSae], data: Array.from({ length: dSae }, () => rand() - 0.5) },
        W_dec: { shape: [dSae, dIn], data: zeros(dSae * dIn) },
        b_dec: { shape: [dIn], data: Array.from({ length: dIn }, () => rand() - 0.5) },
        threshold: { shape: [dSae], data: new Array<number>(dSae).fill(100) }, // every latent off: encode has no gradient
      },
    );
    const latent = 3;
    const x0 = Array.from({ length: dIn }, () => rand() * 2 - 1);
    const objective = (x: tf.Tensor) => tf.sum(tf.slice(sae.preActivation(x), [0, 0, latent], [1, 1, 1])) as tf.Scalar;
    const before = tf.memory().numTensors;
    const grad = tf.tidy(() => Array.from(tf.grad(objective)(tf.tensor3d([[x0]])).dataSync()));
    expect(tf.memory().numTensors).toBe(before);
    const at = (x: number[]) => tf.tidy(() => objective(tf.tensor3d([[x]])).dataSync()[0]);
    const eps = 1e-2;
    for (let i = 0; i < dIn; i++) {
      const up = x0.slice();
      const down = x0.slice();
      up[i] += eps;
      down[i] -= eps;
      const fd = (at(up) - at(down)) / (2 * eps);
      expect(Math.abs(fd - grad[i]), `x[${i}]: fd ${fd} vs grad ${grad[i]}`).toBeLessThan(1e-3 + 1e-2 * Math.abs(fd));
    }
    expect(grad.some((g) => Math.abs(g) > 1e-3)).toBe(true);
    sae.dispose();
  });
});

describe('memory', () => {
  it('loadSae(...).dispose() returns tf.memory().numTensors to its baseline, and encoding leaks nothing', async () => {
    const before = tf.memory().numTensors;
    const variants: [Record<string, unknown>, Weights][] = [
      [cfg6({ architecture: 'jumprelu' }), identityWeights(4, { threshold: [0, 0, 0, 0] })],
      [cfg6({ architecture: 'topk', k: 2, rescale_acts_by_decoder_norm: true, normalize_activations: 'layer_norm' }), identityWeights(4)],
    ];
    for (const [c, w] of variants) {
      const sae = await load(c, w);
      expect(tf.memory().numTensors).toBeGreaterThan(before);
      const loaded = tf.memory().numTensors;
      const x = tf.tensor2d([[1, 2, 3, 4]]);
      const f = sae.encode(x);
      tf.dispose([f, sae.preActivation(x), sae.decode(f, x)]);
      x.dispose();
      expect(tf.memory().numTensors).toBe(loaded);
      sae.dispose();
      expect(tf.memory().numTensors).toBe(before);
    }
  });
});

describe('refusals', () => {
  it('an unknown architecture, naming the field, the file and the supported ones', async () => {
    const err = await loadError(cfg6({ architecture: 'gated' }), identityWeights(4));
    expect(err.message).toMatch(/cfg\.json: architecture "gated" is not supported \(supported: standard, jumprelu, topk\)/);
  });

  it('missing d_sae', async () => {
    const c = cfg6({});
    delete c.d_sae;
    const err = await loadError(c, identityWeights(4));
    expect(err.message).toMatch(/cfg\.json: field "d_sae" must be a positive integer; it is missing/);
  });

  it('W_enc of the wrong shape, naming W_enc and [d_in, d_sae] from cfg.json', async () => {
    const w = identityWeights(4);
    w.W_enc = { shape: [3, 4], data: zeros(12) };
    const err = await loadError(cfg6({ d_sae: 4 }), w);
    expect(err.message).toMatch(/sae_weights\.safetensors: tensor W_enc has shape \[3,4\] but cfg\.json \(d_in 4, d_sae 4\) implies \[d_in, d_sae\] = \[4,4\]/);
  });

  it('a jumprelu SAE without threshold', async () => {
    const err = await loadError(cfg6({ architecture: 'jumprelu' }), identityWeights(4));
    expect(err.message).toMatch(/sae_weights\.safetensors: tensor threshold \[d_sae\] is missing/);
  });

  it('a folder without sae_weights.safetensors', async () => {
    const err = await loadError(cfg6({}), null);
    expect(err.message).toMatch(/sae_weights\.safetensors: missing\. Fix: an SAELens SAE folder holds cfg\.json and sae_weights\.safetensors/);
  });

  it('cfg.json that is not JSON, and a folder without cfg.json', async () => {
    expect((await loadError('{"d_in": 4,', identityWeights(4))).message).toMatch(/cfg\.json: not valid JSON/);
    const err = await loadSae(join(tmp, 'no-such-folder')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ModelFileError);
    expect((err as Error).message).toMatch(/no-such-folder: not found or not a folder/);
  });

  it('a hook point other than resid_pre, resid_post or mlp_out', async () => {
    const err = await loadError(cfg6({}, { hook_name: 'blocks.2.attn.hook_z' }), identityWeights(4));
    expect(err.message).toContain('cfg.json: metadata.hook_name "blocks.2.attn.hook_z" is not supported (supported: blocks.L.{hook_resid_pre,hook_resid_post,hook_mlp_out})');
    const flat = await loadError({ hook_point: 'blocks.2.hook_resid_mid', d_in: 4, d_sae: 4 }, identityWeights(4));
    expect(flat.message).toContain('hook_point "blocks.2.hook_resid_mid" is not supported');
  });

  it('an unsupported old activation, a topk without k, per-head SAEs and finetuning scaling', async () => {
    const flat = { hook_point: 'blocks.0.hook_resid_pre', d_in: 4, d_sae: 4 };
    expect((await loadError({ ...flat, activation_fn_str: 'tanh-relu' }, identityWeights(4))).message).toContain('activation_fn_str "tanh-relu" is not supported (supported: relu, topk)');
    expect((await loadError(cfg6({ architecture: 'topk' }), identityWeights(4))).message).toMatch(/topk SAE needs k/);
    expect((await loadError(cfg6({ architecture: 'topk', k: 5 }), identityWeights(4))).message).toMatch(/an integer from 1 to d_sae \(4\); got 5/);
    expect((await loadError({ ...flat, hook_point_head_index: 3 }, identityWeights(4))).message).toMatch(/hook_head_index is 3/);
    expect((await loadError({ ...flat, finetuning_scaling_factor: true }, identityWeights(4))).message).toMatch(/finetuning_scaling_factor is true/);
  });

  it('tensors of another architecture, and a scaling_factor that is not all ones (all ones is dropped, as SAELens does)', async () => {
    const gatedLike = { ...identityWeights(4), b_gate: { shape: [4], data: zeros(4) }, r_mag: { shape: [4], data: zeros(4) } };
    expect((await loadError(cfg6({}), gatedLike)).message).toMatch(/tensors b_gate, r_mag are not part of a standard SAE/);
    const scaled = { ...identityWeights(4), scaling_factor: { shape: [4], data: [1, 1, 2, 1] } };
    expect((await loadError(cfg6({}), scaled)).message).toMatch(/tensor scaling_factor .* is not all ones/);
    const ones = await load(cfg6({}), { ...identityWeights(4), scaling_factor: { shape: [4], data: [1, 1, 1, 1] } });
    expectClose(run([[1, 2, 3, 4]], (t) => ones.encode(t)).values, [1, 2, 3, 4]);
    ones.dispose();
  });

  it('activations whose last dimension is not d_in', async () => {
    const sae = await load(cfg6({}), identityWeights(4));
    expect(() => tf.tidy(() => sae.encode(tf.zeros([2, 3])))).toThrow(ModelInputError);
    expect(() => tf.tidy(() => sae.encode(tf.zeros([2, 3])))).toThrow(/shape \[\.\.\., 4\] \(the SAE's d_in\), got \[2,3\]/);
    sae.dispose();
  });
});

/** A small deterministic generator in [0, 1), so the random weights are the same on every run. */
function lcg(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
