import type { Client } from './client.js';

/** Every connected client, by id (CLIENT LIST/KILL, INFO clients, maxclients). */
export class ClientRegistry {
  private readonly byId = new Map<number, Client>();
  private nextId = 1;
  /** Clients currently in MONITOR mode. */
  readonly monitors = new Set<Client>();
  /** Called when a client goes away (pub/sub, blocking, tracking clean up here). */
  private readonly removeHooks: ((c: Client) => void)[] = [];

  allocateId(): number {
    return this.nextId++;
  }

  add(c: Client): void {
    this.byId.set(c.id, c);
  }

  onRemove(hook: (c: Client) => void): void {
    this.removeHooks.push(hook);
  }

  remove(c: Client): void {
    if (!this.byId.delete(c.id)) return;
    this.monitors.delete(c);
    c.closed = true;
    for (const hook of this.removeHooks) hook(c);
  }

  get(id: number): Client | undefined {
    return this.byId.get(id);
  }

  get size(): number {
    return this.byId.size;
  }

  all(): IterableIterator<Client> {
    return this.byId.values();
  }
}
