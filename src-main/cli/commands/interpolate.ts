// `textdream interpolate "A" "B"`: decode points on the sentence autoencoder's latent path between two sentences,
// each with its hard cross-entropy under the model: a quick look at how smooth (and how sentence-like) the latent is.
import { ARGMAX_DECODING, FUSED_DECODING } from '../../ae/decode.js';
import { autoencoderDirFor, loadAutoencoder } from '../../ae/files.js';
import { interpolateSentences } from '../../ae/interpolate.js';
import { crossEntropies } from '../../dream/hard.js';
import { inRange, parseInteger } from '../args.js';
import { defineCommand, printJSON, UsageError } from '../command.js';
import { openModel } from '../model.js';
import { fmt, parseChoice } from '../progress.js';

export default defineCommand({
  name: 'interpolate',
  summary: "decode the sentence autoencoder's latent path between two sentences, with each point's cross-entropy",
  positionals: true,
  usage: '"<sentence A>" "<sentence B>" [--k <k>] [--points <n>] [--autoencoder <dir>] [--decode argmax|fused] [--model <dir|hub id>] [--json]',
  options: {
    k: { type: 'string', arg: '<k>', description: 'which autoencoder of the model (autoencoders/k<k>; default 32)' },
    points: { type: 'string', arg: '<n>', description: 'points on the path, both ends included (default 7)' },
    autoencoder: { type: 'string', arg: '<dir>', description: 'autoencoder folder (default <model folder>/autoencoders/k<k>)' },
    decode: { type: 'string', arg: '<argmax|fused>', description: "the autoencoder's argmax, or fused with the model's next-token logits (default fused)" },
  },
  async run(values, positionals, io) {
    if (positionals.length !== 2 || positionals.some((p) => !p.trim())) throw new UsageError('give two sentences, e.g. textdream interpolate "The war ended." "He smiled at her."');
    const k = inRange(parseInteger(values.k, '--k') ?? 32, '--k', { min: 2, max: 512 });
    const decoding = (parseChoice(values.decode, '--decode', ['argmax', 'fused'] as const) ?? 'fused') === 'fused' ? FUSED_DECODING : ARGMAX_DECODING;
    const points = inRange(parseInteger(values.points, '--points') ?? 7, '--points', { min: 2, max: 101 });
    const { lm } = await openModel(values, io);
    try {
      const { ae } = await loadAutoencoder(values.autoencoder ?? autoencoderDirFor(lm.source.dir, k), lm.model);
      try {
        const [a, b] = positionals.map((p) => lm.tokenizer.encode(p).slice(0, ae.shape.T));
        const path = await interpolateSentences(lm.model, lm.tokenizer, ae, a, b, points, decoding);
        const ce = await crossEntropies(lm.model, lm.tokenizer, path.map((p) => lm.tokenizer.encode(p.text)));
        const rows = path.map((p, i) => ({ t: p.t, text: p.text, ce: ce[i] }));
        if (values.json) printJSON(io, { k: ae.shape.k, decoding, points: rows });
        else for (const r of rows) io.stdout(`t=${r.t.toFixed(2)}  CE ${fmt(r.ce, 2)} nats  ${JSON.stringify(r.text)}\n`);
        return 0;
      } finally {
        ae.dispose();
      }
    } finally {
      lm.model.dispose();
    }
  },
});
