// `textdream history`: the runs in the experiment store (dreams and scans), with full-text search over dream
// texts, scanned windows and explanations; export the whole history as one JSON file and import it back.
import { readHistoryFile, writeHistoryFile } from '../../store/exchange.js';
import { resolveStorePath } from '../../store/location.js';
import { inRange, parseInteger } from '../args.js';
import { defineCommand, printJSON, UsageError } from '../command.js';
import { fmt, formatDuration, oneLine } from '../progress.js';
import { DB_OPTION, withStore } from '../store.js';

export default defineCommand({
  name: 'history',
  summary: 'list stored runs (dreams and scans), search their texts, export or import the whole history',
  usage: '[--search <words>] [--layer <L>] [--neuron <N>] [--limit <n>] [--db <file>] [--json] | --export <file.json> | --import <file.json>',
  options: {
    search: { type: 'string', arg: '<words>', description: 'only runs whose texts hold every word (word* matches a prefix); also lists matching explanations and windows' },
    layer: { type: 'string', arg: '<L>', description: 'only dreams targeting this layer' },
    neuron: { type: 'string', arg: '<N>', description: 'only dreams targeting this neuron' },
    limit: { type: 'string', arg: '<n>', description: 'at most n of each kind (default 50)' },
    db: DB_OPTION,
    export: { type: 'string', arg: '<file.json>', description: 'write the whole history (runs, scans, explanations) to one JSON file' },
    import: { type: 'string', arg: '<file.json>', description: 'read a history export into the store (rows already present are kept as they are)' },
  },
  async run(values, _positionals, io) {
    const limit = inRange(parseInteger(values.limit, '--limit') ?? 50, '--limit', { min: 1, max: 100_000 });
    const layer = parseInteger(values.layer, '--layer');
    const neuron = parseInteger(values.neuron, '--neuron');
    if (values.export !== undefined && values.import !== undefined) throw new UsageError('give --export or --import, not both');
    const db = resolveStorePath(values.db, io.env);
    return withStore(db, (store) => {
      if (values.export !== undefined) {
        if (!values.export) throw new UsageError('--export needs a file name, e.g. --export history.json');
        writeHistoryFile(store, values.export);
        const n = { dreams: store.listRuns({ limit: 1e9 }).length, scans: store.listScans({ limit: 1e9 }).length };
        if (values.json) printJSON(io, { exported: values.export, ...n });
        else io.stdout(`exported ${n.dreams} dream runs and ${n.scans} scans from ${db} to ${values.export}\n`);
        return 0;
      }
      if (values.import !== undefined) {
        const report = store.importHistory(readHistoryFile(values.import));
        if (values.json) printJSON(io, report);
        else io.stdout(`imported into ${db}: ${report.dreamRuns} dream runs, ${report.scans} scans, ${report.explanations} explanations, ${report.models} models, ${report.corpora} corpora (${report.skipped} already present)\n`);
        return 0;
      }
      const search = values.search?.trim() || undefined;
      const dreams = store.listRuns({ search, layer, neuron, limit });
      const scans = search || layer !== undefined || neuron !== undefined ? [] : store.listScans({ limit });
      const explanations = search ? store.listExplanations({ search, limit }) : [];
      const windows = search ? store.search(search, { kinds: ['window'], limit }) : [];
      if (values.json) {
        printJSON(io, { store: db, dreams, scans, explanations, windows });
        return 0;
      }
      const out: string[] = [`store ${db}${search ? ` · search ${JSON.stringify(search)}` : ''}`];
      out.push('', `dream runs (${dreams.length}):`);
      for (const d of dreams) {
        out.push(`  ${d.id.slice(0, 8)}  ${d.createdAt.slice(0, 16).replace('T', ' ')}  ${d.target.padEnd(8)} ${d.method.padEnd(9)} ${d.status.padEnd(11)} ${String(d.steps).padStart(5)} steps  best ${fmt(d.bestValue ?? NaN).padStart(8)}  ${d.bestText === null ? '' : oneLine(d.bestText, 70)}`);
      }
      if (!search && layer === undefined && neuron === undefined) {
        out.push('', `scans (${scans.length}):`);
        for (const s of scans) {
          out.push(`  ${s.id.slice(0, 8)}  ${s.createdAt.slice(0, 16).replace('T', ' ')}  ${s.status.padEnd(11)} ${s.corpus} · layers ${s.config.layers.join(',')} · ${s.tokensDone.toLocaleString('en-US')}/${s.tokensTotal.toLocaleString('en-US')} tokens · ${formatDuration(s.elapsedMs)} · model ${s.model}`);
        }
      }
      if (search) {
        out.push('', `explanations (${explanations.length}):`);
        for (const x of explanations) out.push(`  L${x.layer}N${x.neuron}  ${x.source.padEnd(10)} ${oneLine(x.text, 100)}`);
        out.push('', `scanned windows (${windows.length}):`);
        for (const w of windows) out.push(`  ${w.ref.slice(0, 8)}…:${w.ref.split(':')[1]}  ${oneLine(w.snippet, 110)}`);
      }
      io.stdout(out.join('\n') + '\n');
      return 0;
    });
  },
});
