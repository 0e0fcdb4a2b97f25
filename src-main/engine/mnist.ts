// MNIST dreams behind the contract: one target dreamed twice, from raw pixels and from the autoencoder's latent,
// stepping side by side (each yields between steps), every record an event. The networks load on first use
// from resources/mnist; runs live in memory (the experiment store has no MNIST tables): the current run and
// the last finished one can be fetched again by a reconnecting client.
import { existsSync } from 'node:fs';
import type { MnistRun, MnistSide, MnistSpace } from '../api/contract.js';
import { DEFAULT_MNIST_DREAM, mnistDreamConfig, type MnistDreamConfig, type MnistTarget } from '../mnist/config.js';
import { mnistDream, type MnistModels, type MnistStepRecord } from '../mnist/dream.js';
import { defaultMnistDir, disposeMnistModels, loadMnistModels, netFile } from '../mnist/models.js';
import { LAYERS, NET_NAMES, type LayerName } from '../mnist/nets.js';
import { targetObjective } from '../mnist/objectives.js';
import { BusyError, InvalidRequestError, NotAvailableError } from './errors.js';
import type { EventHub } from './events.js';
import type { ModelHost } from './models.js';
import * as check from './validate.js';

const SPACES: MnistSpace[] = ['raw', 'latent'];

interface Hosted {
  view: MnistRun;
  controller: AbortController;
  finished: Promise<void>;
}

function mnistTarget(value: unknown): MnistTarget {
  const t = check.object(value, 'settings.target');
  if (t.kind === 'class') return { kind: 'class', class: check.int(t.class, 'target.class', 0, 9) };
  if (t.kind === 'unit') {
    if (!(LAYERS as readonly unknown[]).includes(t.layer)) throw new InvalidRequestError(`target.layer must be one of ${LAYERS.join(', ')}`);
    return { kind: 'unit', layer: t.layer as LayerName, index: check.int(t.index, 'target.index') };
  }
  throw new InvalidRequestError('target.kind must be class or unit');
}

function mnistSettings(value: unknown): Partial<MnistDreamConfig> & { target: MnistTarget } {
  const s = check.object(value, 'settings');
  const out: Partial<MnistDreamConfig> & { target: MnistTarget } = { target: mnistTarget(s.target) };
  const ints = { steps: [1, 100_000], seed: [0, 2 ** 31 - 1], jitter: [0, 8], every: [1, 100_000] } as const;
  for (const [key, v] of Object.entries(s)) {
    if (key === 'target' || v === undefined || v === null) continue;
    if (key in ints) {
      const [lo, hi] = ints[key as keyof typeof ints];
      (out as Record<string, unknown>)[key] = check.int(v, `settings.${key}`, lo, hi);
    } else if (key === 'lr' || key === 'l2' || key === 'tv') {
      if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new InvalidRequestError(`settings.${key} must be a number ≥ 0`);
      out[key] = v;
    } else {
      throw new InvalidRequestError(`settings.${key} is not an MNIST dream setting (allowed: target, steps, lr, seed, l2, tv, jitter, every)`);
    }
  }
  return out;
}

export class MnistHost {
  private nets: Promise<MnistModels> | null = null;
  private current: Hosted | null = null;
  private next = 0;

  constructor(
    private readonly events: EventHub,
    private readonly models: ModelHost,
    private readonly dir: string = defaultMnistDir(),
  ) {}

  status() {
    const missing = NET_NAMES.filter((n) => !existsSync(netFile(this.dir, n)));
    const { space: _space, ...defaults } = DEFAULT_MNIST_DREAM;
    if (missing.length) {
      return { available: false, note: `the MNIST networks are not trained yet (missing ${missing.join(', ')} in ${this.dir}): run \`textdream train-mnist\``, defaults: null };
    }
    return { available: true, note: `classifier, judge and autoencoder from ${this.dir}`, defaults };
  }

  async start(raw: unknown): Promise<{ runId: string }> {
    const partial = mnistSettings(check.object(raw, 'request').settings);
    if (this.current?.view.sides.some((s) => s.status === 'running')) throw new BusyError('an MNIST dream is running: stop it first');
    if (!this.status().available) throw new NotAvailableError(this.status().note);
    await this.models.ensureBackend();
    this.nets ??= loadMnistModels(this.dir);
    const nets = await this.nets.catch((e: unknown) => {
      this.nets = null;
      throw e;
    });
    const configs = SPACES.map((space) => mnistDreamConfig({ ...partial, space }));
    const target = targetObjective(configs[0].target, nets.classifier).description;
    const runId = `mnist-${++this.next}`;
    const { space: _space, ...settings } = configs[0];
    const view: MnistRun = { runId, settings, target, sides: SPACES.map((space) => ({ space, status: 'running', records: [], error: null })) };
    const controller = new AbortController();
    const hosted: Hosted = { view, controller, finished: Promise.resolve() };
    this.current = hosted;
    hosted.finished = Promise.all(configs.map((cfg, i) => this.drive(runId, nets, cfg, view.sides[i], controller.signal))).then(() => undefined);
    return { runId };
  }

  private async drive(runId: string, nets: MnistModels, cfg: MnistDreamConfig, side: MnistSide, signal: AbortSignal): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    try {
      const gen = mnistDream(nets, cfg, signal);
      for (;;) {
        const n = await gen.next();
        if (n.done) {
          side.status = n.value.stopped === 'aborted' ? 'aborted' : 'completed';
          break;
        }
        const record: MnistStepRecord = n.value;
        side.records.push(record);
        this.events.publish('mnist.step', { runId, space: side.space, index: side.records.length - 1, record });
      }
    } catch (e) {
      side.status = 'failed';
      side.error = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
    }
    this.events.publish('mnist.ended', { runId, space: side.space, status: side.status, error: side.error });
  }

  stop(runId: string): boolean {
    if (this.current?.view.runId !== runId) return false;
    const running = this.current.view.sides.some((s) => s.status === 'running');
    this.current.controller.abort();
    return running;
  }

  /** The run asked for (or the current one), with every record so far. */
  get(runId?: string): MnistRun | null {
    const v = this.current?.view;
    if (!v || (runId !== undefined && v.runId !== runId)) return null;
    return { ...v, sides: v.sides.map((s) => ({ ...s, records: [...s.records] })) };
  }

  async close(): Promise<void> {
    this.current?.controller.abort();
    await this.current?.finished;
    if (this.nets) disposeMnistModels(await this.nets.catch(() => null as never));
    this.nets = null;
  }
}
