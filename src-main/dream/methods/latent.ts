// `latent`: gradient ascent on the k-dimensional latent of a sentence autoencoder; its decoder writes the text.
import { ARGMAX_DECODING, FUSED_DECODING } from '../../ae/decode.js';
import { autoencoderDirFor, loadAutoencoder } from '../../ae/files.js';
import { gradientMethod } from '../continuous.js';
import type { DreamContext } from '../loop.js';
import { latentParam } from '../latentParam.js';
import { ObjectiveError, targetObjective } from '../objectives.js';
import { boolean, choice, integer, text } from '../settings/kinds.js';
import { defineMethod } from './define.js';

export const settings = {
  latentLayer: integer({
    min: 0,
    max: 1024,
    default: 0,
    arg: '<ℓ>',
    modelLimit: 'layers',
    description: 'where the decoder writes: 0 = input embeddings, ℓ ≥ 1 = the residual stream entering block ℓ',
  }),
  straightThrough: boolean({ default: false, description: 'the model reads the decoded tokens themselves (gradient through the soft embeddings)' }),
  latentDecode: choice({
    choices: ['argmax', 'fused'],
    default: 'argmax',
    arg: '<argmax|fused>',
    label: 'decode',
    description: "how a latent becomes the judged text: the autoencoder's argmax, or fused with the model's next-token logits",
  }),
  autoencoder: text({
    maxLength: 4096,
    arg: '<dir>',
    nonEmpty: 'give an autoencoder folder or leave it out',
    description: 'the sentence autoencoder folder (default <model folder>/autoencoders/k<k>; make one with textdream train-ae)',
  }),
};

/** The autoencoder folder `latent` uses: --autoencoder, else the model folder's autoencoders/k<k>. */
export function autoencoderDir(ctx: DreamContext, cfg: { autoencoder?: string; k: number }): string {
  if (cfg.autoencoder) return cfg.autoencoder;
  if (!ctx.modelDir) throw new ObjectiveError('--method latent needs a sentence autoencoder: pass --autoencoder <dir> (train one with textdream train-ae)');
  return autoencoderDirFor(ctx.modelDir, cfg.k);
}

export default defineMethod(settings, {
  summary: "gradient ascent on a sentence autoencoder's k-dimensional latent; its decoder writes the text",
  order: 4,
  uses: ['batch', 'lr', 'fluency', 'manifold', 'k'],
  check: (cfg, name) =>
    cfg.latentLayer > 0 && cfg.manifold > 0 ? `${name('manifold')} applies to input embeddings: with ${name('latentLayer')} > 0 the decoder writes a residual stream; drop ${name('manifold')}` : undefined,
  checkTarget(ctx, cfg, target) {
    // The decoder must write the residual stream at or before the deepest layer the target reads.
    const { nLayer } = ctx.model.config;
    const objective = targetObjective(target, { reduce: cfg.reduce, transform: cfg.transform });
    const reads = objective.needsLogits ? nLayer : objective.maxLayer;
    if (cfg.latentLayer > reads) {
      throw new ObjectiveError(`--latent-layer ${cfg.latentLayer} is past what the target reads (layer ${reads}): the decoder must write the residual stream at or before it; choose --latent-layer ≤ ${reads}`);
    }
  },
  async build({ ctx, objective, cfg, prompt }) {
    const { ae } = await loadAutoencoder(autoencoderDir(ctx, cfg), ctx.model);
    try {
      const decoding = cfg.latentDecode === 'fused' ? FUSED_DECODING : ARGMAX_DECODING;
      return gradientMethod(ctx.model, latentParam(ctx.model, ae, cfg.batch, { layer: cfg.latentLayer, straightThrough: cfg.straightThrough, decoding, seed: cfg.seed, init: prompt ? [prompt] : undefined }), objective, cfg);
    } catch (e) {
      ae.dispose();
      throw e;
    }
  },
});
