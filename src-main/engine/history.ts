// History views over stored runs: compare two runs' settings, export runs as JSON or CSV (one row per record).
import type { ExportFormat, ExportedFile, RunComparison, RunDetail } from '../api/contract.js';

/** Settings that differ between two runs (target included), as JSON text per side. */
export function compareRuns(a: RunDetail, b: RunDetail): RunComparison {
  const keys = [...new Set([...Object.keys(a.config), ...Object.keys(b.config)])].sort();
  const settingsDiff = keys.flatMap((key) => {
    const va = JSON.stringify((a.config as unknown as Record<string, unknown>)[key]) ?? '—';
    const vb = JSON.stringify((b.config as unknown as Record<string, unknown>)[key]) ?? '—';
    return va === vb ? [] : [{ key, a: va, b: vb }];
  });
  return { a, b, settingsDiff };
}

const CSV_COLUMNS = ['run_id', 'model', 'target', 'method', 'status', 'step', 'soft', 'label', 'value', 'max', 'ce', 'text'] as const;

function csvCell(value: string | number | null): string {
  const s = value === null ? '' : String(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV: one row per recorded step with that step's best dream; JSON: the full runs. */
export function exportRuns(runs: RunDetail[], format: ExportFormat, now = new Date()): ExportedFile {
  const stamp = now.toISOString().replace(/[:.]/g, '-');
  if (format === 'json') {
    return {
      filename: `textdream-runs-${stamp}.json`,
      mime: 'application/json',
      content: JSON.stringify({ exportedAt: now.toISOString(), runs }, null, 2) + '\n',
    };
  }
  const lines = [CSV_COLUMNS.join(',')];
  for (const r of runs) {
    for (const rec of r.records) {
      const d = rec.dreams[rec.best];
      const row = [r.id, r.model, r.target, r.method, r.status, rec.step, rec.soft, d?.label ?? null, d?.value ?? null, d?.max ?? null, d?.ce ?? null, d?.text ?? null];
      lines.push(row.map(csvCell).join(','));
    }
  }
  return { filename: `textdream-runs-${stamp}.csv`, mime: 'text/csv', content: lines.join('\n') + '\n' };
}
