// `textdream info`: what a model is, where its files came from, and which backend runs it.
import { listBackends } from '../../backend.js';
import { ENVIRONMENT_VARIABLES } from '../../environment.js';
import { defineCommand, printJSON } from '../command.js';
import { listAutoencoders } from '../../ae/files.js';
import { describeBackend, openModel } from '../model.js';

export default defineCommand({
  name: 'info',
  summary: "show a model's configuration, parameter count, storage, files and the backend",
  usage: '[--model <dir|hub id>] [--backends] [--env] [--json]',
  options: {
    backends: { type: 'boolean', description: 'list the backends this machine can run, and why the others cannot (no model is loaded)' },
    env: { type: 'boolean', description: 'list the environment variables textdream reads, what each sets, and its value here (secrets masked)' },
  },
  async run(values, _positionals, io) {
    if (values.env) {
      const rows = ENVIRONMENT_VARIABLES.map((v) => ({ ...v, value: shownValue(v.name, io.env[v.name]) }));
      if (values.json) printJSON(io, { environment: rows });
      else {
        const w = Math.max(...rows.map((r) => r.name.length));
        io.stdout(rows.map((r) => `${r.name.padEnd(w)}  ${(r.value ?? '(unset)').padEnd(12)}  ${r.sets}\n`).join(''));
      }
      return 0;
    }
    if (values.backends) {
      const list = await listBackends();
      if (values.json) printJSON(io, { backends: list });
      else io.stdout(list.map((b) => `${b.name.padEnd(11)} ${b.available ? 'yes' : 'no '}  ${b.detail}\n`).join(''));
      return 0;
    }
    const { lm, backend, spec } = await openModel(values, io);
    try {
      const c = lm.config;
      const report = {
        model: spec,
        source: { kind: lm.source.source, dir: lm.source.dir, id: lm.source.id, revision: lm.source.revision },
        config: {
          layers: c.nLayer,
          d_model: c.dModel,
          heads: c.nHead,
          d_mlp: c.dMlp,
          context: c.nPositions,
          vocab: c.vocabSize,
          layer_norm_eps: c.layerNormEps,
          tied_embeddings: c.tieWordEmbeddings,
        },
        parameters: lm.parameters,
        dtypes: lm.dtypes,
        files: lm.files,
        unexpected: lm.unexpected,
        autoencoders: await listAutoencoders(lm.source.dir),
        backend: { name: backend.name, provider: backend.provider, simd: backend.simd ?? null, notes: backend.notes },
      };
      if (values.json) {
        printJSON(io, report);
        return 0;
      }
      const from = lm.source.id ? `${lm.source.id}@${lm.source.revision} (${lm.source.source})` : lm.source.source;
      const rows: [string, string][] = [
        ['model', `${from} ${lm.source.dir}`],
        ['layers', String(c.nLayer)],
        ['d_model', String(c.dModel)],
        ['heads', `${c.nHead} (d_head ${c.dModel / c.nHead})`],
        ['d_mlp', String(c.dMlp)],
        ['context', `${c.nPositions} tokens`],
        ['vocab', String(c.vocabSize)],
        ['parameters', `${lm.parameters.toLocaleString('en-US')} (${(lm.parameters / 1e6).toFixed(2)} M)`],
        ['dtypes', lm.dtypes.join(', ')],
        ['files', lm.files.join('\n' + ' '.repeat(12))],
        ['unexpected', lm.unexpected.length ? lm.unexpected.join(', ') : 'none'],
        [
          'autoencoders',
          report.autoencoders.length
            ? report.autoencoders.map((a) => `k=${a.k}${a.heldOutTokenAccuracy !== null ? ` (held-out token accuracy ${(100 * a.heldOutTokenAccuracy).toFixed(1)} %)` : ''}${a.error ? ` unreadable: ${a.error}` : ''}`).join(', ')
            : 'none (textdream train-ae makes one)',
        ],
        ['backend', describeBackend(backend)],
      ];
      io.stdout(rows.map(([k, v]) => `${k.padEnd(11)} ${v}\n`).join(''));
      return 0;
    } finally {
      lm.model.dispose();
    }
  },
});

/** A variable's value for display: tokens and keys are masked. */
function shownValue(name: string, value: string | undefined): string | null {
  if (value === undefined || value === '') return null;
  return /TOKEN|KEY/.test(name) ? '(set, hidden)' : value;
}
