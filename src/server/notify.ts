import type { Config } from '../config.js';
import type { Database } from '../store/database.js';
import { NOTIFY, notifyFlags } from './notify-flags.js';
import type { PubSub } from './pubsub.js';

/**
 * Keyspace notifications (notify.c) and KSUB: every key write, expiry and
 * key creation reaches emit(); with notify-keyspace-events set it publishes
 * on __keyspace@<db>__:<key> and/or __keyevent@<db>__:<event>, and KSUB
 * subscribers whose pattern matches the key receive ["kmessage", pattern,
 * key, event]. With neither configured, emit() is two comparisons.
 */

/** The notification class of each event name the commands emit (Redis's NOTIFY_* argument). */
const EVENT_CLASS = new Map<string, number>();
function classOf(bit: number, names: string): void {
  for (const name of names.split(' ')) EVENT_CLASS.set(name, bit);
}
classOf(NOTIFY.generic, 'del expire persist rename_from rename_to move_from move_to copy_to restore');
classOf(NOTIFY.string, 'set setrange incrby incrbyfloat append setbit pfadd');
classOf(NOTIFY.list, 'lpush rpush lpop rpop linsert lset lrem ltrim sortstore');
classOf(NOTIFY.set, 'sadd srem spop sinterstore sunionstore sdiffstore');
classOf(NOTIFY.hash, 'hset hdel hincrby hincrbyfloat');
classOf(
  NOTIFY.zset,
  'zadd zincr zrem zremrangebyscore zremrangebyrank zremrangebylex zpopmin zpopmax zunionstore zinterstore zdiffstore zrangestore georadiusstore geosearchstore',
);
classOf(
  NOTIFY.stream,
  'xadd xtrim xdel xsetid xgroup-create xgroup-createconsumer xgroup-setid xgroup-destroy xgroup-delconsumer',
);
classOf(NOTIFY.expired, 'expired');
classOf(NOTIFY.evicted, 'evicted');
classOf(NOTIFY.new, 'new');
classOf(NOTIFY.keyMiss, 'keymiss'); // read misses (KeyEvents.missed)

/**
 * Writes that replicate but are no keyspace event in Redis (a consumer
 * group's pending entries changed by XREADGROUP/XACK/XCLAIM): peers replay
 * them to WATCH and tracking, never to notifications or KSUB.
 */
export const SILENT_XGROUP_EVENT = 'xgroup-state';
const SILENT_EVENTS: ReadonlySet<string> = new Set([SILENT_XGROUP_EVENT]);

/** The class of an event name; names the table lacks count as generic (a test keeps the table complete). */
export function eventClass(event: string): number {
  return EVENT_CLASS.get(event) ?? NOTIFY.generic;
}

/** Every event name with a class (the completeness test compares the commands' names against it). */
export function knownEvents(): IterableIterator<string> {
  return EVENT_CLASS.keys();
}

export class KeyEvents {
  /** notify-keyspace-events as bits. */
  private flags = 0;

  constructor(
    config: Config,
    private readonly pubsub: PubSub,
  ) {
    const apply = (): void => {
      this.flags = notifyFlags(config.get('notify-keyspace-events'));
    };
    apply();
    config.onChange((name) => {
      if (name === 'notify-keyspace-events') apply();
    });
  }

  /** A read found no key (lookupKeyRead): "keymiss" under the m flag; not a change, so not for KSUB. */
  missed(db: Database, key: string): void {
    if ((this.flags & NOTIFY.keyMiss) !== 0) this.notify(db.id, key, 'keymiss');
  }

  /** A key was created (dbAdd): the "new" event, which KSUB does not receive (the write's own event follows). */
  created(db: Database, key: string): void {
    if ((this.flags & NOTIFY.new) !== 0) this.notify(db.id, key, 'new');
  }

  /** One event on one key (local or replicated); whole-database events (empty key) are not key events. */
  emit(db: Database, key: string, event: string): void {
    if (key === '' || SILENT_EVENTS.has(event)) return;
    if (this.flags !== 0) this.notify(db.id, key, event);
    if (this.pubsub.hasKeySubscribers) this.pubsub.publishKeyEvent(key, event);
  }

  private notify(dbIndex: number, key: string, event: string): void {
    if ((this.flags & eventClass(event)) === 0) return;
    if (this.flags & NOTIFY.keyspace) this.pubsub.publish(`__keyspace@${dbIndex}__:${key}`, event);
    if (this.flags & NOTIFY.keyevent) this.pubsub.publish(`__keyevent@${dbIndex}__:${event}`, key);
  }
}
