import type { Client } from '../server/client.js';
import { SubKind } from '../server/pubsub.js';
import { helpSubcommand, sub } from './help.js';
import type { CommandFlag, CommandSpec, KeySpec } from './types.js';

/**
 * Pub/Sub commands (pubsub.c) and Strata's KSUB/KUNSUB; the subscription
 * tables and delivery live in src/server/pubsub.ts, forwarding to other
 * nodes in Server.publish.
 */

const SUBSCRIBE_FLAGS: CommandFlag[] = ['pubsub', 'noscript', 'loading', 'stale'];
const PUBLISH_FLAGS: CommandFlag[] = ['pubsub', 'loading', 'stale', 'fast', 'may_replicate'];
/** Shard channels route like keys in a cluster (not keys of the keyspace: NOT_KEY). */
const SHARD_CHANNELS: KeySpec[] = [{ kind: 'range', first: 1, last: -1, step: 1, flags: ['NOT_KEY'] }];
const SHARD_CHANNEL: KeySpec[] = [{ kind: 'range', first: 1, last: 1, step: 1, flags: ['NOT_KEY'] }];

/** (P|S|K)SUBSCRIBE: one confirmation per name. */
function subscribeHandler(kind: SubKind) {
  return (c: Client, argv: string[]): void => {
    for (let i = 1; i < argv.length; i++) c.server.pubsub.subscribe(c, kind, argv[i]!);
    c.pushed();
  };
}

/** (P|S|K)UNSUBSCRIBE: the names given, or all of the kind. */
function unsubscribeHandler(kind: SubKind) {
  return (c: Client, argv: string[]): void => {
    const ps = c.server.pubsub;
    if (argv.length === 1) ps.unsubscribeAll(c, kind, true);
    else for (let i = 1; i < argv.length; i++) ps.unsubscribe(c, kind, argv[i]!, true);
    c.pushed();
  };
}

/** (P|S|K)SUBSCRIBE (`subscribe` true) or (P|S|K)UNSUBSCRIBE: Redis's flags; shard channels route like keys. */
function subscriptionSpec(name: string, kind: SubKind, subscribe: boolean, meta: { since: string; summary: string; syntax: string }): CommandSpec {
  const spec: CommandSpec = {
    name,
    arity: subscribe ? -2 : -1,
    flags: SUBSCRIBE_FLAGS,
    group: 'pubsub',
    complexity: subscribe
      ? 'O(N) where N is the number of channels to subscribe to.'
      : 'O(N) where N is the number of clients already subscribed to a channel.',
    handler: subscribe ? subscribeHandler(kind) : unsubscribeHandler(kind),
    ...meta,
  };
  if (kind === SubKind.Shard) spec.keys = SHARD_CHANNELS;
  return spec;
}

/** PUBSUB CHANNELS / SHARDCHANNELS [pattern]. */
function channelsHandler(kind: SubKind.Channel | SubKind.Shard) {
  return (c: Client, argv: string[]): void => {
    c.reply.bulkArray(c.server.pubsub.activeChannels(kind, argv.length > 2 ? argv[2]! : null));
  };
}

/** PUBSUB NUMSUB / SHARDNUMSUB [channel ...]: channel, count pairs in a flat array (in RESP3 too, as Redis 7.0). */
function numsubHandler(kind: SubKind.Channel | SubKind.Shard) {
  return (c: Client, argv: string[]): void => {
    c.reply.arrayHeader((argv.length - 2) * 2);
    for (let i = 2; i < argv.length; i++) {
      c.reply.bulk(argv[i]!);
      c.reply.int(c.server.pubsub.subscriberCount(kind, argv[i]!));
    }
  };
}

const PUBSUB_HELP = [
  'CHANNELS [<pattern>]',
  "    Return the currently active channels matching a <pattern> (default: '*').",
  'NUMPAT',
  '    Return number of subscriptions to patterns.',
  'NUMSUB [<channel> ...]',
  '    Return the number of subscribers for the specified channels, excluding',
  '    pattern subscriptions(default: no channels).',
  'SHARDCHANNELS [<pattern>]',
  "    Return the currently active shard level channels matching a <pattern> (default: '*').",
  'SHARDNUMSUB [<shardchannel> ...]',
  '    Return the number of subscribers for the specified shard level channel(s)',
];

const PUBSUB_META = { group: 'pubsub' as const };

const pubsubSubcommands: CommandSpec[] = [
  sub('channels', -2, ['pubsub', 'loading', 'stale'], { ...PUBSUB_META, since: '2.8.0', summary: 'Returns the active channels.', syntax: '[pattern]' }, channelsHandler(SubKind.Channel)),
  sub('numsub', -2, ['pubsub', 'loading', 'stale'], { ...PUBSUB_META, since: '2.8.0', summary: 'Returns a count of subscribers to channels.', syntax: '[channel [channel ...]]' }, numsubHandler(SubKind.Channel)),
  sub('numpat', 2, ['pubsub', 'loading', 'stale'], { ...PUBSUB_META, since: '2.8.0', summary: 'Returns a count of unique pattern subscriptions.' }, (c) =>
    c.reply.int(c.server.pubsub.patternCount),
  ),
  sub('shardchannels', -2, ['pubsub', 'loading', 'stale'], { ...PUBSUB_META, since: '7.0.0', summary: 'Returns the active shard channels.', syntax: '[pattern]' }, channelsHandler(SubKind.Shard)),
  sub('shardnumsub', -2, ['pubsub', 'loading', 'stale'], { ...PUBSUB_META, since: '7.0.0', summary: 'Returns the count of subscribers of shard channels.', syntax: '[shardchannel [shardchannel ...]]' }, numsubHandler(SubKind.Shard)),
  { ...helpSubcommand('pubsub', PUBSUB_HELP, '6.2.0'), group: 'pubsub' },
];

export const pubsubCommands: CommandSpec[] = [
  subscriptionSpec('subscribe', SubKind.Channel, true, { since: '2.0.0', summary: 'Listens for messages published to channels.', syntax: 'channel [channel ...]' }),
  subscriptionSpec('unsubscribe', SubKind.Channel, false, { since: '2.0.0', summary: 'Stops listening to messages posted to channels.', syntax: '[channel [channel ...]]' }),
  subscriptionSpec('psubscribe', SubKind.Pattern, true, { since: '2.0.0', summary: 'Listens for messages published to channels that match one or more patterns.', syntax: 'pattern [pattern ...]' }),
  subscriptionSpec('punsubscribe', SubKind.Pattern, false, { since: '2.0.0', summary: 'Stops listening to messages published to channels that match one or more patterns.', syntax: '[pattern [pattern ...]]' }),
  subscriptionSpec('ssubscribe', SubKind.Shard, true, { since: '7.0.0', summary: 'Listens for messages published to shard channels.', syntax: 'shardchannel [shardchannel ...]' }),
  subscriptionSpec('sunsubscribe', SubKind.Shard, false, { since: '7.0.0', summary: 'Stops listening to messages posted to shard channels.', syntax: '[shardchannel [shardchannel ...]]' }),
  subscriptionSpec('ksub', SubKind.Key, true, { since: '7.0.0', summary: 'Listens for changes of keys matching one or more glob patterns (Strata).', syntax: 'pattern [pattern ...]' }),
  subscriptionSpec('kunsub', SubKind.Key, false, { since: '7.0.0', summary: 'Stops listening for changes of keys matching patterns (Strata).', syntax: '[pattern [pattern ...]]' }),
  {
    name: 'publish',
    arity: 3,
    flags: PUBLISH_FLAGS,
    group: 'pubsub',
    since: '2.0.0',
    summary: 'Posts a message to a channel.',
    complexity: 'O(N+M) where N is the number of clients subscribed to the receiving channel and M is the total number of subscribed patterns (by any client).',
    syntax: 'channel message',
    handler: (c, argv) => c.reply.int(c.server.publish(argv[1]!, argv[2]!, false)),
  },
  {
    name: 'spublish',
    arity: 3,
    flags: PUBLISH_FLAGS,
    keys: SHARD_CHANNEL,
    group: 'pubsub',
    since: '7.0.0',
    summary: 'Post a message to a shard channel',
    complexity: 'O(N) where N is the number of clients subscribed to the receiving shard channel.',
    syntax: 'shardchannel message',
    handler: (c, argv) => c.reply.int(c.server.publish(argv[1]!, argv[2]!, true)),
  },
  {
    name: 'pubsub',
    arity: -2,
    flags: [],
    group: 'pubsub',
    since: '2.8.0',
    summary: 'A container for Pub/Sub commands.',
    complexity: 'Depends on subcommand.',
    subcommands: pubsubSubcommands,
  },
];
