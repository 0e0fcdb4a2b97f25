// `textdream lens`: the logit lens, top tokens per layer at every position.
import { logitLensTable } from '../../analysis/lensTable.js';
import { encodeForModel, tokenViews } from '../../analysis/tokens.js';
import { inRange, parseInteger, required } from '../args.js';
import { defineCommand, printJSON } from '../command.js';
import { openModel } from '../model.js';
import { quote } from '../format.js';

export default defineCommand({
  name: 'lens',
  summary: 'logit lens: the top next tokens read from the residual stream before every block and after the last',
  usage: '--text <text> [--top <k>] [--model <dir|hub id>] [--json]',
  options: {
    text: { type: 'string', arg: '<text>', description: 'the text to run (must fit the context)' },
    top: { type: 'string', arg: '<k>', description: 'tokens shown per layer and position (default 5)' },
  },
  async run(values, _positionals, io) {
    const text = required(values.text, '--text', 'give the text to run, e.g. --text "The quick brown fox"');
    const top = inRange(parseInteger(values.top, '--top') ?? 5, '--top', { min: 1, max: 100 });
    const { lm } = await openModel(values, io);
    try {
      const ids = encodeForModel(lm.tokenizer, lm.config, text, '--text');
      const rows = await logitLensTable(lm.model, ids, { top });
      const tokens = tokenViews(lm.tokenizer, ids);
      const named = rows.map((r) => ({
        ...r,
        top: r.top.map((pos) => pos.map((t) => ({ ...t, text: lm.tokenizer.decode([t.id]) }))),
      }));
      if (values.json) {
        printJSON(io, { ids, tokens, layers: named });
        return 0;
      }
      const width = Math.max(...named.map((r) => r.label.length));
      for (const t of tokens) {
        io.stdout(`${t.position} ${quote(t.text)} → next:\n`);
        for (const r of named) {
          const cells = r.top[t.position].map((x) => `${quote(x.text)} ${(100 * x.prob).toFixed(1)}%`).join('  ');
          io.stdout(`  ${r.label.padEnd(width)}  ${cells}\n`);
        }
      }
      return 0;
    } finally {
      lm.model.dispose();
    }
  },
});
