// The SAEs a model folder lists for pickers (sae/list.ts): short names only where sae:L<layer>.<site> resolves to
// the folder, the folder otherwise, and a broken cfg.json listed with its error rather than hidden.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { listModelSaes } from '../src-main/sae/list.js';
import { writeJumpReluSae } from './helpers/sae.js';

const tmp = await mkdtemp(join(tmpdir(), 'textdream-sae-list-'));
afterAll(() => rm(tmp, { recursive: true, force: true }));

it('lists each SAE folder under saes/ with how an objective names it', async () => {
  expect(await listModelSaes(tmp)).toEqual([]); // no saes/ at all
  const saes = join(tmp, 'saes');
  await writeJumpReluSae(join(saes, 'blocks.1.hook_resid_pre'), { dIn: 8, dSae: 16, hook: 'blocks.1.hook_resid_pre', seed: 1 });
  await writeJumpReluSae(join(saes, 'my-run'), { dIn: 8, dSae: 32, hook: 'blocks.0.hook_mlp_out', seed: 2 });
  await mkdir(join(saes, 'broken'));
  await writeFile(join(saes, 'broken', 'cfg.json'), '{"d_in": 8}');
  const list = await listModelSaes(tmp);
  expect(list.map(({ where, hook, dSae, architecture }) => ({ where, hook, dSae, architecture }))).toEqual([
    { where: 'L1.resid_pre', hook: 'blocks.1.hook_resid_pre', dSae: 16, architecture: 'jumprelu' },
    { where: join(saes, 'broken'), hook: '', dSae: 0, architecture: '' },
    { where: join(saes, 'my-run'), hook: 'blocks.0.hook_mlp_out', dSae: 32, architecture: 'jumprelu' },
  ]); // in folder-name order
  expect(list.find((x) => x.where.endsWith('broken'))?.error).toMatch(/cfg\.json/);
  expect(list.filter((x) => x.error)).toHaveLength(1);
});
