import { globMatch } from '../commands/util.js';
import type { Client } from './client.js';

/**
 * Pub/Sub (pubsub.c): who is subscribed to which channel, pattern or shard
 * channel, and message delivery. Each client keeps its own subscriptions
 * (Client.subs) so that unsubscribing everything and CLIENT LIST need no
 * scan of the server-wide tables; the two sides always agree.
 */

/** The three kinds of subscription and the words Redis uses for them in replies. */
export const enum SubKind {
  Channel,
  Pattern,
  Shard,
  /** KSUB: glob patterns over key names (Strata's realtime key subscriptions). */
  Key,
}

const KINDS = [SubKind.Channel, SubKind.Pattern, SubKind.Shard, SubKind.Key] as const;
const SUBSCRIBE_WORD = ['subscribe', 'psubscribe', 'ssubscribe', 'ksub'] as const;
const UNSUBSCRIBE_WORD = ['unsubscribe', 'punsubscribe', 'sunsubscribe', 'kunsub'] as const;

type Tables = [Map<string, Set<Client>>, Map<string, Set<Client>>, Map<string, Set<Client>>, Map<string, Set<Client>>];

/** One client's subscriptions, by kind. */
export class ClientSubscriptions {
  readonly byKind: [Set<string>, Set<string>, Set<string>, Set<string>] = [new Set(), new Set(), new Set(), new Set()];

  /** Channels + patterns (what SUBSCRIBE/PSUBSCRIBE replies count). */
  get classic(): number {
    return this.byKind[SubKind.Channel].size + this.byKind[SubKind.Pattern].size;
  }

  get total(): number {
    return this.classic + this.byKind[SubKind.Shard].size + this.byKind[SubKind.Key].size;
  }

  /** What a (un)subscribe confirmation counts: channels + patterns, or the subscriptions of its own kind. */
  countFor(kind: SubKind): number {
    return kind === SubKind.Channel || kind === SubKind.Pattern ? this.classic : this.byKind[kind].size;
  }
}

/** Per server: the subscription tables and delivery. */
export class PubSub {
  /** Per kind: channel or pattern -> subscribed clients (in subscription order). */
  private readonly tables: Tables = [new Map(), new Map(), new Map(), new Map()];

  channelsOf(kind: SubKind): Map<string, Set<Client>> {
    return this.tables[kind];
  }

  /** SUBSCRIBE/PSUBSCRIBE/SSUBSCRIBE of one name: replies the confirmation push. */
  subscribe(c: Client, kind: SubKind, name: string): void {
    const subs = (c.subs ??= new ClientSubscriptions());
    const mine = subs.byKind[kind];
    if (!mine.has(name)) {
      mine.add(name);
      let clients = this.tables[kind].get(name);
      if (clients === undefined) this.tables[kind].set(name, (clients = new Set()));
      clients.add(c);
    }
    this.confirm(c, SUBSCRIBE_WORD[kind], name, kind);
  }

  /** One name's UNSUBSCRIBE (null name: the reply when nothing was subscribed). */
  unsubscribe(c: Client, kind: SubKind, name: string | null, notify: boolean): void {
    if (name !== null && c.subs !== null && c.subs.byKind[kind].delete(name)) {
      const clients = this.tables[kind].get(name)!;
      clients.delete(c);
      if (clients.size === 0) this.tables[kind].delete(name);
    }
    if (notify) this.confirm(c, UNSUBSCRIBE_WORD[kind], name, kind);
    if (c.subs !== null && c.subs.total === 0) c.subs = null;
  }

  /** UNSUBSCRIBE without arguments: every name of the kind, or one null reply when there were none. */
  unsubscribeAll(c: Client, kind: SubKind, notify: boolean): void {
    const names = c.subs === null ? [] : [...c.subs.byKind[kind]];
    if (names.length === 0) {
      if (notify) this.confirm(c, UNSUBSCRIBE_WORD[kind], null, kind);
      return;
    }
    for (const name of names) this.unsubscribe(c, kind, name, notify);
  }

  /** A closing or RESET client leaves every table, silently. */
  removeClient(c: Client): void {
    if (c.subs === null) return;
    for (const kind of KINDS) this.unsubscribeAll(c, kind, false);
    c.subs = null;
  }

  /** ["subscribe", name, count]. */
  private confirm(c: Client, word: string, name: string | null, kind: SubKind): void {
    const count = c.subs === null ? 0 : c.subs.countFor(kind);
    c.reply.pushHeader(3);
    c.reply.bulk(word);
    if (name === null) c.reply.nullBulk();
    else c.reply.bulk(name);
    c.reply.int(count);
  }

  /** PUBLISH on this node: channel subscribers, then pattern subscribers; returns how many received it. */
  publish(channel: string, message: string): number {
    let receivers = 0;
    // No copies: a client closed by its output limit mid-delivery leaves the set, which iteration tolerates (deliver skips closed ones).
    const direct = this.tables[SubKind.Channel].get(channel);
    if (direct !== undefined) {
      for (const c of direct) {
        this.deliver(c, 'message', null, channel, message);
        receivers++;
      }
    }
    for (const [pattern, clients] of this.matchingPatterns(SubKind.Pattern, channel)) {
      for (const c of clients) {
        this.deliver(c, 'pmessage', pattern, channel, message);
        receivers++;
      }
    }
    return receivers;
  }

  /** SPUBLISH on this node: shard channel subscribers only. */
  publishShard(channel: string, message: string): number {
    const clients = this.tables[SubKind.Shard].get(channel);
    if (clients === undefined) return 0;
    const receivers = clients.size;
    for (const c of clients) this.deliver(c, 'smessage', null, channel, message);
    return receivers;
  }

  /** Whether anyone is subscribed to a channel or pattern (cluster-side publishers skip their work otherwise). */
  get hasChannelSubscribers(): boolean {
    return this.tables[SubKind.Channel].size !== 0 || this.tables[SubKind.Pattern].size !== 0;
  }

  /** Whether any KSUB pattern is active: the write path checks only this when none is. */
  get hasKeySubscribers(): boolean {
    return this.tables[SubKind.Key].size !== 0;
  }

  /**
   * A key changed: ["kmessage", pattern, key, event] to each KSUB pattern
   * matching it. Runs on every write while any KSUB exists, so it allocates
   * nothing unless a pattern matches, and a pattern's literal prefix (up to
   * its first glob character) rules most keys out without a glob match.
   */
  publishKeyEvent(key: string, event: string): void {
    for (const [pattern, clients] of this.matchingPatterns(SubKind.Key, key)) {
      for (const c of clients) this.deliver(c, 'kmessage', pattern, key, event);
    }
  }

  /**
   * The patterns of a kind (PSUBSCRIBE, KSUB) matching a channel or key.
   * Allocates nothing when none matches, and a pattern's literal prefix (up
   * to its first glob character) rules most names out before a glob match.
   */
  private matchingPatterns(kind: SubKind.Pattern | SubKind.Key, name: string): readonly [string, Set<Client>][] {
    let matched: [string, Set<Client>][] | null = null;
    for (const entry of this.tables[kind]) {
      const pattern = entry[0];
      if (name.startsWith(literalPrefix(pattern)) && globMatch(pattern, name)) (matched ??= []).push(entry);
    }
    return matched ?? NO_MATCHES;
  }

  private deliver(c: Client, word: string, pattern: string | null, channel: string, message: string): void {
    if (c.closed) return;
    c.reply.pushHeader(pattern === null ? 3 : 4);
    c.reply.bulk(word);
    if (pattern !== null) c.reply.bulk(pattern);
    c.reply.bulk(channel);
    c.reply.bulk(message);
    c.pushed();
  }

  /** PUBSUB CHANNELS / SHARDCHANNELS: active names matching the optional pattern. */
  activeChannels(kind: SubKind.Channel | SubKind.Shard, pattern: string | null): string[] {
    const out: string[] = [];
    for (const name of this.tables[kind].keys()) if (pattern === null || globMatch(pattern, name)) out.push(name);
    return out;
  }

  /** PUBSUB NUMSUB / SHARDNUMSUB: subscribers of one channel. */
  subscriberCount(kind: SubKind.Channel | SubKind.Shard, channel: string): number {
    return this.tables[kind].get(channel)?.size ?? 0;
  }

  /** PUBSUB NUMPAT: distinct patterns. */
  get patternCount(): number {
    return this.tables[SubKind.Pattern].size;
  }
}

const NO_MATCHES: readonly [string, Set<Client>][] = [];

/** Literal prefixes of glob patterns, cached (a pattern is matched against every written key). */
const PREFIXES = new Map<string, string>();
const MAX_CACHED_PREFIXES = 4096;

function literalPrefix(pattern: string): string {
  let prefix = PREFIXES.get(pattern);
  if (prefix !== undefined) return prefix;
  const glob = pattern.search(/[*?[\\]/);
  prefix = glob === -1 ? pattern : pattern.slice(0, glob);
  if (PREFIXES.size >= MAX_CACHED_PREFIXES) PREFIXES.clear();
  PREFIXES.set(pattern, prefix);
  return prefix;
}
