// Fan-out of the contract's events to every subscriber, each event numbered, the latest kept for replay.
// Transports (SSE, IPC, a MessagePort) subscribe here; a reconnecting client asks for what came after the
// last number it saw (SSE's Last-Event-ID). A listener that throws is dropped, never the publisher.
import type { ApiEventName, ApiEvents } from '../api/contract.js';

export type AnyEvent = { [E in ApiEventName]: { id: number; name: E; payload: ApiEvents[E] } }[ApiEventName];
export type EventListener = (event: AnyEvent) => void;

export class EventHub {
  private seq = 0;
  private readonly listeners = new Set<EventListener>();
  private readonly recent: AnyEvent[] = [];

  /** `keep`: events held for replay to reconnecting clients. */
  constructor(private readonly keep = 4000) {}

  publish<E extends ApiEventName>(name: E, payload: ApiEvents[E]): AnyEvent {
    const event = { id: ++this.seq, name, payload } as AnyEvent;
    this.recent.push(event);
    if (this.recent.length > this.keep) this.recent.splice(0, this.recent.length - this.keep);
    for (const listener of [...this.listeners]) {
      try {
        listener(event);
      } catch {
        this.listeners.delete(listener);
      }
    }
    return event;
  }

  subscribe(listener: EventListener): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** Events after `lastId`, or null when some of them are no longer held (the client must re-fetch state). */
  since(lastId: number): AnyEvent[] | null {
    if (lastId >= this.seq) return [];
    const first = this.recent[0];
    if (!first || first.id > lastId + 1) return null;
    return this.recent.filter((e) => e.id > lastId);
  }

  get lastId(): number {
    return this.seq;
  }

  get subscribers(): number {
    return this.listeners.size;
  }
}
