// GET /api/events: the engine's events as server-sent events. Every event carries `id:` (the hub's number),
// so a reconnecting EventSource sends Last-Event-ID and gets what it missed while it was away; `?run=<id>`
// (repeatable) first replays those runs' records so far (and the end of a finished run).
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiEventName, ApiEvents } from '../api/contract.js';
import type { AnyEvent } from '../engine/events.js';
import type { Engine } from '../engine/service.js';

const HEARTBEAT_MS = 15_000;

function frame<E extends ApiEventName>(name: E, payload: ApiEvents[E], id?: number): string {
  return `${id === undefined ? '' : `id: ${id}\n`}event: ${name}\ndata: ${JSON.stringify(payload)}\n\n`;
}

function replayRun(engine: Engine, runId: string): string[] {
  let run;
  try {
    run = engine.runs.get(runId);
  } catch {
    return []; // unknown run: nothing to replay (the client's dreams.get says why)
  }
  const out = run.records.map((record, index) => frame('dream.step', { runId, index, record }));
  if (run.status !== 'running') out.push(frame('dream.ended', { runId, status: run.status, result: run.result, error: run.error }));
  return out;
}

export function serveEvents(engine: Engine, url: URL, req: IncomingMessage, res: ServerResponse): void {
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write('retry: 1000\n\n');

  // Replay and subscription happen in one synchronous stretch: no event can fall between them.
  const last = Number(req.headers['last-event-id'] ?? url.searchParams.get('lastEventId') ?? NaN);
  if (Number.isInteger(last) && last >= 0) {
    const missed = engine.events.since(last) ?? [];
    for (const e of missed) res.write(frame(e.name, e.payload as never, e.id));
  }
  for (const runId of url.searchParams.getAll('run').slice(0, 16)) {
    for (const chunk of replayRun(engine, runId)) res.write(chunk);
  }
  const unsubscribe = engine.events.subscribe((e: AnyEvent) => {
    res.write(frame(e.name, e.payload as never, e.id));
  });
  const heartbeat = setInterval(() => res.write(': ping\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  const end = () => {
    clearInterval(heartbeat);
    unsubscribe();
  };
  req.on('close', end);
  res.on('error', end);
}
