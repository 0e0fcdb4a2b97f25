// `textdream forward`: one forward pass over a text, its next-token loss and each token's top neurons.
import { forwardReadout } from '../../analysis/neurons.js';
import { encodeForModel, tokenViews } from '../../analysis/tokens.js';
import { inRange, parseInteger, required } from '../args.js';
import { defineCommand, printJSON } from '../command.js';
import { openModel } from '../model.js';
import { quote } from '../format.js';

export default defineCommand({
  name: 'forward',
  summary: 'run a text through the model: tokens, next-token loss, top MLP neurons per token in one layer',
  usage: '--text <text> --layer <L> [--top <k>] [--model <dir|hub id>] [--json]',
  options: {
    text: { type: 'string', arg: '<text>', description: 'the text to run (must fit the context)' },
    layer: { type: 'string', arg: '<L>', description: 'block whose MLP neurons (mlp.hook_post) are read, 0-based' },
    top: { type: 'string', arg: '<k>', description: 'neurons shown per token (default 5)' },
  },
  async run(values, _positionals, io) {
    const text = required(values.text, '--text', 'give the text to run, e.g. --text "The quick brown fox"');
    const layerArg = required(parseInteger(values.layer, '--layer'), '--layer', 'give the block to read neurons from, e.g. --layer 0');
    const topArg = parseInteger(values.top, '--top') ?? 5;
    const { lm } = await openModel(values, io);
    try {
      const c = lm.config;
      const layer = inRange(layerArg, '--layer', { min: 0, max: c.nLayer - 1, describe: `this model has layers 0-${c.nLayer - 1}` });
      const top = inRange(topArg, '--top', { min: 1, max: c.dMlp, describe: `use 1-${c.dMlp} (the layer's neuron count)` });
      const ids = encodeForModel(lm.tokenizer, c, text, '--text');
      const r = await forwardReadout(lm.model, ids, { layer, top });
      const tokens = tokenViews(lm.tokenizer, ids).map((t, i) => ({ ...t, neurons: r.topNeurons[i] }));
      if (values.json) {
        printJSON(io, { layer, hook: r.hook, ids, loss: r.loss, tokens });
        return 0;
      }
      const loss = r.loss === null ? 'n/a (one token)' : `${r.loss.toFixed(4)} nats`;
      io.stdout(`${ids.length} tokens · next-token loss ${loss} · top ${top} neurons of ${r.hook}\n`);
      const width = Math.min(16, Math.max(...tokens.map((t) => quote(t.text).length)));
      for (const t of tokens) {
        const cells = t.neurons.map((n) => `N${n.neuron} ${n.value.toFixed(3)}`).join('  ');
        io.stdout(`${String(t.position).padStart(4)}  ${String(t.id).padStart(6)}  ${quote(t.text).padEnd(width)}  ${cells}\n`);
      }
      return 0;
    } finally {
      lm.model.dispose();
    }
  },
});
