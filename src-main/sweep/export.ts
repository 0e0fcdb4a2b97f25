// A sweep's pages out of the store: JSON lines, one neuron page per line (schema in docs/sweep-pages.md), and a
// self-contained HTML report of a sweep (one table, sortable and filterable in the page itself, no network, no
// files beside it). Pure functions of the stored rows: the command reads them, these write text.
import type { SweepPageRow, SweepSettings } from './types.js';
import { jobLabel } from './jobs.js';
import { pageDream } from './page.js';

export const PAGE_LINE_FORMAT = 'textdream-neuron-page';
export const PAGE_LINE_VERSION = 1;

export interface SweepExportMeta {
  /** The model as the user named it (folder or hub id). */
  modelSpec: string;
  modelFingerprint: string;
  settingsHash: string;
  settings: SweepSettings;
}

/** One line of a page export (docs/sweep-pages.md). */
export interface PageLine {
  format: typeof PAGE_LINE_FORMAT;
  version: typeof PAGE_LINE_VERSION;
  model: { spec: string; fingerprint: string };
  settingsHash: string;
  layer: number;
  neuron: number;
  /** The page's explanation score (null when it could not be scored). */
  score: number | null;
  createdAt: string;
  elapsedMs: number;
  /** The rows the page was made from, by id: `textdream history --export/--import` carries them between stores. */
  scanId: string;
  dreamRunIds: string[];
  explanationIds: string[];
  page: SweepPageRow['page'];
}

export function pageLine(r: SweepPageRow, meta: SweepExportMeta): PageLine {
  return {
    format: PAGE_LINE_FORMAT,
    version: PAGE_LINE_VERSION,
    model: { spec: meta.modelSpec, fingerprint: r.model },
    settingsHash: r.settingsHash,
    layer: r.layer,
    neuron: r.neuron,
    score: r.score,
    createdAt: r.createdAt,
    elapsedMs: r.elapsedMs,
    scanId: r.scanId,
    dreamRunIds: r.dreamRunIds,
    explanationIds: r.explanationIds,
    page: r.page,
  };
}

/** The export file: a header line with the sweep's settings, then one line per page in layer-then-neuron order. */
export function pagesJSONL(rows: SweepPageRow[], meta: SweepExportMeta): string {
  const header = { format: `${PAGE_LINE_FORMAT}s`, version: PAGE_LINE_VERSION, model: { spec: meta.modelSpec, fingerprint: meta.modelFingerprint }, settingsHash: meta.settingsHash, settings: meta.settings, pages: rows.length };
  const sorted = [...rows].sort((a, b) => a.layer - b.layer || a.neuron - b.neuron);
  return [header, ...sorted.map((r) => pageLine(r, meta))].map((x) => JSON.stringify(x)).join('\n') + '\n';
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
export const escapeHTML = (s: string): string => s.replace(/[&<>"']/g, (c) => ESCAPES[c]);

const num = (x: number | null | undefined, digits = 3): string => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(digits) : '');

/** A dream's text shown as read: leading space kept visible, line breaks as ⏎. */
const shown = (t: string) => t.replace(/\n/g, '⏎');

/**
 * The report: every page as one row (neuron, corpus max, mean, density, explanation and its score, the best readable dream (pageDream) and
 * its activation); clicking a header sorts, the box filters rows by any text. Numbers are written in data-v
 * attributes so sorting is numeric; empty cells (no value) sort last.
 */
export function layerReportHTML(rows: SweepPageRow[], meta: SweepExportMeta, title: string): string {
  const sorted = [...rows].sort((a, b) => a.layer - b.layer || a.neuron - b.neuron);
  const cell = (text: string, v?: number | null, cls = '') => {
    const data = typeof v === 'number' && Number.isFinite(v) ? ` data-v="${v}"` : v === undefined ? '' : ' data-v=""';
    return `<td${cls ? ` class="${cls}"` : ''}${data}>${text}</td>`;
  };
  const body = sorted
    .map((r) => {
      const p = r.page;
      const best = pageDream(p);
      return `<tr>${[
        cell(escapeHTML(jobLabel({ layer: r.layer, neuron: r.neuron, settings: meta.settings })), r.layer * 1e6 + r.neuron),
        cell(num(p.stats?.max), p.stats?.max ?? null, 'n'),
        cell(num(p.stats?.mean, 4), p.stats?.mean ?? null, 'n'),
        cell(num(p.stats?.positive === null || p.stats?.positive === undefined ? null : p.stats.positive * 100, 1), p.stats?.positive ?? null, 'n'),
        cell(escapeHTML(p.explanation.text)),
        cell(num(p.explanation.score), p.explanation.score, 'n'),
        cell(best ? `<span class="d">${escapeHTML(shown(best.text))}</span>${best.readable ? '' : ' <span class="nr">(not readable)</span>'}` : ''),
        cell(num(best?.value), best?.value ?? null, 'n'),
        cell(num(p.uplift), p.uplift, 'n'),
      ].join('')}</tr>`;
    })
    .join('\n');
  const methods = meta.settings.dreams.map((d) => `${d.method} (${d.steps} steps, seed ${d.seed})`).join(', ');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHTML(title)}</title>
<style>
body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}
h1{font-size:1.3em;margin:0 0 .3em}
.meta{color:#555;margin-bottom:1em}
input{font:inherit;padding:.3em .5em;width:28em;margin-bottom:.8em}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #ddd;padding:.35em .5em;vertical-align:top;text-align:left}
th{cursor:pointer;background:#f4f4f4;position:sticky;top:0;user-select:none}
th.sorted-asc::after{content:" ▲"}th.sorted-desc::after{content:" ▼"}
td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
.nr{color:#a33;font-size:90%}
.d{font-family:ui-monospace,monospace;white-space:pre-wrap;background:#f7f7ef}
</style></head><body>
<h1>${escapeHTML(title)}</h1>
<div class="meta">model ${escapeHTML(meta.modelSpec)} (${escapeHTML(meta.modelFingerprint.slice(0, 12))}) · settings ${escapeHTML(meta.settingsHash)} · scan of ${escapeHTML(meta.settings.scan.corpus)} · dreams: ${escapeHTML(methods)} · explainer ${escapeHTML(meta.settings.explain.explainer)} · ${sorted.length} neuron page(s)</div>
<input id="filter" type="search" placeholder="filter: any word of an explanation or a dream, or L2N7" aria-label="filter rows">
<table id="pages"><thead><tr><th>neuron</th><th>corpus max</th><th>mean</th><th>active %</th><th>explanation</th><th>score</th><th>best readable dream</th><th>dream act.</th><th>uplift</th></tr></thead>
<tbody>
${body}
</tbody></table>
<script>
(() => {
  const table = document.getElementById('pages');
  const rows = () => [...table.tBodies[0].rows];
  const key = (td) => (td.dataset.v === undefined ? td.textContent.toLowerCase() : td.dataset.v === '' ? null : Number(td.dataset.v));
  table.tHead.addEventListener('click', (e) => {
    const th = e.target.closest('th');
    if (!th) return;
    const col = th.cellIndex;
    const desc = !th.classList.contains('sorted-desc');
    for (const h of table.tHead.rows[0].cells) h.classList.remove('sorted-asc', 'sorted-desc');
    th.classList.add(desc ? 'sorted-desc' : 'sorted-asc');
    const sorted = rows().sort((a, b) => {
      const x = key(a.cells[col]), y = key(b.cells[col]);
      if (x === null || y === null) return x === y ? 0 : x === null ? 1 : -1;
      return (x < y ? -1 : x > y ? 1 : 0) * (desc ? -1 : 1);
    });
    table.tBodies[0].append(...sorted);
  });
  document.getElementById('filter').addEventListener('input', (e) => {
    const words = e.target.value.toLowerCase().split(/\\s+/).filter(Boolean);
    for (const r of rows()) r.hidden = !words.every((w) => r.textContent.toLowerCase().includes(w));
  });
})();
</script>
</body></html>
`;
}
