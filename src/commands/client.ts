import { ReplyMode, type Client } from '../server/client.js';
import { clientType, clientTypeByName, describeClient, type ClientType } from '../server/clients.js';
import { helpSubcommand, sub } from './help.js';
import { clientUnblockSpec } from './lists-unblock.js';
import { REDIS_VERSION } from './info.js';
import { trackingSubcommands } from '../server/tracking.js';
import type { CommandSpec } from './types.js';
import { ERR, isArg, parseInteger } from './util.js';

const WRONGPASS = 'WRONGPASS invalid username-password pair or user is disabled.';
const BAD_NAME = 'ERR Client names cannot contain spaces, newlines or special characters.';

/** Whether user/password authenticate (the default user, protected by requirepass; nopass when it is empty). */
function passwordOk(c: Client, user: string, password: string): boolean {
  if (user !== 'default') return false;
  const required = c.server.config.get('requirepass');
  return required === '' || required === password;
}

/** ACLAuthenticateUser: on success the client is authenticated as user. */
function authenticate(c: Client, user: string, password: string): boolean {
  if (!passwordOk(c, user, password)) return false;
  c.authenticated = true;
  c.user = user;
  return true;
}

/** Names may only hold printable ASCII without spaces ('!'..'~'); "" clears the name. */
function validName(name: string): boolean {
  for (let i = 0; i < name.length; i++) {
    const ch = name.charCodeAt(i);
    if (ch < 0x21 || ch > 0x7e) return false;
  }
  return true;
}

function setNameOrReply(c: Client, name: string): boolean {
  if (!validName(name)) {
    c.error(BAD_NAME);
    return false;
  }
  c.name = name;
  return true;
}

/** HELLO [protover [AUTH user pass] [SETNAME name]] */
function hello(c: Client, argv: string[]): void {
  let ver = 0;
  if (argv.length >= 2) {
    const v = parseInteger(argv[1]!);
    if (v === null) return c.error('ERR Protocol version is not an integer or out of range');
    if (v < 2 || v > 3) return c.error('NOPROTO unsupported protocol version');
    ver = v;
  }
  for (let j = 2; j < argv.length; j++) {
    const more = argv.length - 1 - j;
    if (isArg(argv[j]!, 'AUTH') && more >= 2) {
      if (!authenticate(c, argv[j + 1]!, argv[j + 2]!)) return c.error(WRONGPASS);
      j += 2;
    } else if (isArg(argv[j]!, 'SETNAME') && more >= 1) {
      if (!setNameOrReply(c, argv[j + 1]!)) return;
      j++;
    } else {
      return c.error(`ERR Syntax error in HELLO option '${argv[j]}'`);
    }
  }
  if (!c.authenticated) {
    return c.error(
      'NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time',
    );
  }
  if (ver) c.reply.resp = ver as 2 | 3;
  const r = c.reply;
  r.mapHeader(7);
  r.bulk('server');
  r.bulk('redis');
  r.bulk('version');
  r.bulk(REDIS_VERSION);
  r.bulk('proto');
  r.int(c.resp);
  r.bulk('id');
  r.int(c.id);
  r.bulk('mode');
  r.bulk(c.server.config.bool('cluster-enabled') ? 'cluster' : 'standalone');
  r.bulk('role');
  r.bulk('master');
  r.bulk('modules');
  r.emptyArray();
}

/** AUTH [username] password */
function auth(c: Client, argv: string[]): void {
  if (argv.length > 3) return c.error(ERR.syntax);
  if (argv.length === 2 && c.server.config.get('requirepass') === '') {
    return c.error(
      'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
    );
  }
  const [user, password] = argv.length === 2 ? ['default', argv[1]!] : [argv[1]!, argv[2]!];
  if (authenticate(c, user, password)) c.reply.ok();
  else c.error(WRONGPASS);
}

/** RESET: back to a fresh connection's state. */
function reset(c: Client): void {
  c.db = c.server.keyspace.db(0);
  c.reply.resp = 2;
  c.name = '';
  c.replyMode = ReplyMode.On;
  c.noEvict = false;
  c.noTouch = false;
  if (c.monitor) {
    c.monitor = false;
    c.server.clients.monitors.delete(c);
  }
  c.user = 'default';
  c.authenticated = c.server.config.get('requirepass') === '';
  c.server.clients.runResetHooks(c);
  c.reply.status('RESET');
}

/** CLIENT LIST [TYPE type] [ID id ...] */
function clientList(c: Client, argv: string[]): void {
  let clients: Client[];
  if (argv.length === 4 && isArg(argv[2]!, 'TYPE')) {
    const type = clientTypeByName(argv[3]!);
    if (type === null) return c.error(`ERR Unknown client type '${argv[3]}'`);
    clients = [...c.server.clients.all()].filter((x) => clientType(x) === type);
  } else if (argv.length > 3 && isArg(argv[2]!, 'ID')) {
    clients = [];
    for (let j = 3; j < argv.length; j++) {
      const id = parseInteger(argv[j]!);
      if (id === null) return c.error('ERR Invalid client ID');
      const found = c.server.clients.get(id);
      if (found) clients.push(found);
    }
  } else if (argv.length !== 2) {
    return c.error(ERR.syntax);
  } else {
    clients = [...c.server.clients.all()];
  }
  const now = c.server.now();
  c.reply.verbatim(clients.map((x) => `${describeClient(x, now, x === c ? argv : null)}\n`).join(''));
}

interface KillFilter {
  id: number;
  type: ClientType | null;
  addr: string | null;
  laddr: string | null;
  user: string | null;
  skipMe: boolean;
}

function fail(c: Client, message: string): null {
  c.error(message);
  return null;
}

/** Parses CLIENT KILL's new-style filters; null after replying with an error. */
function parseKillFilter(c: Client, argv: string[]): KillFilter | null {
  const f: KillFilter = { id: 0, type: null, addr: null, laddr: null, user: null, skipMe: true };
  for (let i = 2; i < argv.length; i += 2) {
    const opt = argv[i]!;
    const value = argv[i + 1];
    if (value === undefined) return fail(c, ERR.syntax);
    if (isArg(opt, 'ID')) {
      const id = parseInteger(value);
      if (id === null || id < 1) return fail(c, 'ERR client-id should be greater than 0');
      f.id = id;
    } else if (isArg(opt, 'TYPE')) {
      f.type = clientTypeByName(value);
      if (f.type === null) return fail(c, `ERR Unknown client type '${value}'`);
    } else if (isArg(opt, 'ADDR')) f.addr = value;
    else if (isArg(opt, 'LADDR')) f.laddr = value;
    else if (isArg(opt, 'USER')) {
      if (value !== 'default') return fail(c, `ERR No such user '${value}'`);
      f.user = value;
    } else if (isArg(opt, 'SKIPME')) {
      if (isArg(value, 'YES')) f.skipMe = true;
      else if (isArg(value, 'NO')) f.skipMe = false;
      else return fail(c, ERR.syntax);
    } else return fail(c, ERR.syntax);
  }
  return f;
}

function killMatches(c: Client, x: Client, f: KillFilter): boolean {
  if (f.addr !== null && x.remoteAddress !== f.addr) return false;
  if (f.laddr !== null && x.localAddress !== f.laddr) return false;
  if (f.type !== null && clientType(x) !== f.type) return false;
  if (f.id !== 0 && x.id !== f.id) return false;
  if (f.user !== null && x.user !== f.user) return false;
  return !(x === c && f.skipMe);
}

/** CLIENT KILL addr | CLIENT KILL [ID id] [TYPE t] [ADDR a] [LADDR a] [USER u] [SKIPME yes|no] */
function clientKill(c: Client, argv: string[]): void {
  const oldForm = argv.length === 3;
  const filter: KillFilter | null = oldForm
    ? { id: 0, type: null, addr: argv[2]!, laddr: null, user: null, skipMe: false }
    : parseKillFilter(c, argv);
  if (filter === null) return;
  let killed = 0;
  for (const x of [...c.server.clients.all()]) {
    if (!killMatches(c, x, filter)) continue;
    if (x === c) c.closeAfterReply = true;
    else x.close();
    killed++;
  }
  if (!oldForm) c.reply.int(killed);
  else if (killed === 0) c.error('ERR No such client');
  else c.reply.ok();
}

/** CLIENT PAUSE timeout [WRITE|ALL] */
function clientPause(c: Client, argv: string[]): void {
  let kind: 'write' | 'all' = 'all';
  if (argv.length === 4) {
    if (isArg(argv[3]!, 'WRITE')) kind = 'write';
    else if (!isArg(argv[3]!, 'ALL')) return c.error('ERR CLIENT PAUSE mode must be WRITE or ALL');
  }
  const ms = parseInteger(argv[2]!);
  if (ms === null) return c.error('ERR timeout is not an integer or out of range');
  if (ms < 0) return c.error('ERR timeout is negative');
  c.server.pause(kind, c.server.now() + ms);
  c.reply.ok();
}

/** CLIENT REPLY ON|OFF|SKIP: OFF and SKIP send no reply of their own. */
function clientReply(c: Client, argv: string[]): void {
  const mode = argv[2]!;
  if (isArg(mode, 'ON')) {
    c.replyMode = ReplyMode.On;
    c.reply.ok();
  } else if (isArg(mode, 'OFF')) c.replyMode = ReplyMode.Off;
  else if (isArg(mode, 'SKIP')) {
    if (c.replyMode === ReplyMode.On) c.replyMode = ReplyMode.SkipNext;
  } else c.error(ERR.syntax);
}

/** A CLIENT subcommand taking ON|OFF that sets one boolean of the client. */
function onOff(name: string, since: string, summary: string, set: (c: Client, on: boolean) => void): CommandSpec {
  return sub(name, 3, ['noscript', 'loading', 'stale'], { since, summary, group: 'connection', syntax: 'ON | OFF' }, (c, argv) => {
    if (isArg(argv[2]!, 'ON')) set(c, true);
    else if (isArg(argv[2]!, 'OFF')) set(c, false);
    else return c.error(ERR.syntax);
    c.reply.ok();
  });
}

/** CLIENT SETINFO LIB-NAME|LIB-VER value */
function clientSetInfo(c: Client, argv: string[]): void {
  const attr = argv[2]!;
  const value = argv[3]!;
  const isName = isArg(attr, 'LIB-NAME');
  if (!isName && !isArg(attr, 'LIB-VER')) return c.error(`ERR Unrecognized option '${attr}'`);
  if (!validName(value)) return c.error(`ERR ${isName ? 'lib-name' : 'lib-ver'} cannot contain spaces, newlines or special characters.`);
  if (isName) c.libName = value;
  else c.libVersion = value;
  c.reply.ok();
}

/** CLIENT HELP: Redis 7.0's lines plus the 7.2 subcommands Strata has (SETINFO, NO-TOUCH). */
const CLIENT_HELP = [
  'CACHING (YES|NO)', '    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.',
  'GETREDIR', '    Return the client ID we are redirecting to when tracking is enabled.',
  'GETNAME', '    Return the name of the current connection.',
  'ID', '    Return the ID of the current connection.',
  'INFO', '    Return information about the current client connection.',
  'KILL <ip:port>', '    Kill connection made from <ip:port>.',
  'KILL <option> <value> [<option> <value> [...]]', '    Kill connections. Options are:',
  '    * ADDR (<ip:port>|<unixsocket>:0)', '      Kill connections made from the specified address',
  '    * LADDR (<ip:port>|<unixsocket>:0)', '      Kill connections made to specified local address',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)', '      Kill connections by type.',
  '    * USER <username>', '      Kill connections authenticated by <username>.',
  '    * SKIPME (YES|NO)', '      Skip killing current connection (default: yes).',
  'LIST [options ...]', '    Return information about client connections. Options:',
  '    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)', '      Return clients of specified type.',
  'UNPAUSE', '    Stop the current client pause, resuming traffic.',
  'PAUSE <timeout> [WRITE|ALL]', '    Suspend all, or just write, clients for <timeout> milliseconds.',
  'REPLY (ON|OFF|SKIP)', '    Control the replies sent to the current connection.',
  'SETNAME <name>', '    Assign the name <name> to the current connection.',
  'SETINFO <option> <value>', '    Set client meta attr. Options are:',
  '    * LIB-NAME: the client lib name.', '    * LIB-VER: the client lib version.',
  'UNBLOCK <clientid> [TIMEOUT|ERROR]', '    Unblock the specified blocked client.',
  'TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]', '         [OPTIN] [OPTOUT] [NOLOOP]',
  '    Control server assisted client side caching.',
  'TRACKINGINFO', '    Report tracking status for the current connection.',
  'NO-EVICT (ON|OFF)', '    Protect current client connection from eviction.',
  'NO-TOUCH (ON|OFF)', "    Will not touch LRU/LFU stats when this mode is on.",
];

const CONN: CommandSpec['flags'] = ['noscript', 'loading', 'stale'];
const ADMIN: CommandSpec['flags'] = ['admin', 'noscript', 'loading', 'stale'];
const conn = (since: string, summary: string, extra: { syntax?: string; complexity?: string; tips?: string[] } = {}) => ({
  since, summary, group: 'connection' as const, complexity: 'O(1)', ...extra,
});

const clientSubcommands: CommandSpec[] = [
  sub('id', 2, CONN, conn('5.0.0', 'Returns the unique client ID of the connection.'), (c) => c.reply.int(c.id)),
  sub('info', 2, CONN, conn('6.2.0', 'Returns information about the connection.', { tips: ['nondeterministic_output'] }), (c, argv) =>
    c.reply.verbatim(`${describeClient(c, c.server.now(), argv)}\n`)),
  sub('list', -2, ADMIN, conn('2.4.0', 'Lists open connections.', {
    syntax: '[TYPE NORMAL | MASTER | REPLICA | PUBSUB] [ID client-id [client-id ...]]',
    complexity: 'O(N) where N is the number of client connections', tips: ['nondeterministic_output'],
  }), clientList),
  sub('kill', -3, ADMIN, conn('2.4.0', 'Terminates open connections.', {
    syntax: 'ip:port | [ID client-id] [TYPE NORMAL | MASTER | SLAVE | REPLICA | PUBSUB] [USER username] [ADDR ip:port] [LADDR ip:port] [SKIPME YES | NO]',
    complexity: 'O(N) where N is the number of client connections',
  }), clientKill),
  sub('setname', 3, CONN, conn('2.6.9', 'Sets the connection name.', { syntax: 'connection-name' }), (c, argv) => {
    if (setNameOrReply(c, argv[2]!)) c.reply.ok();
  }),
  sub('getname', 2, CONN, conn('2.6.9', 'Returns the name of the connection.'), (c) =>
    c.name === '' ? c.reply.nullBulk() : c.reply.bulk(c.name)),
  sub('pause', -3, ADMIN, conn('3.0.0', 'Suspends commands processing.', { syntax: 'timeout [WRITE | ALL]' }), (c, argv) =>
    argv.length > 4 ? c.error(ERR.syntax) : clientPause(c, argv)),
  sub('unpause', 2, ADMIN, conn('6.2.0', 'Resumes processing commands from paused clients.', {
    complexity: 'O(N) Where N is the number of paused clients',
  }), (c) => {
    c.server.unpause();
    c.reply.ok();
  }),
  sub('reply', 3, CONN, conn('3.2.0', 'Instructs the server whether to reply to commands.', { syntax: 'ON | OFF | SKIP' }), clientReply),
  onOff('no-evict', '7.0.0', 'Sets the client eviction mode of the connection.', (c, on) => (c.noEvict = on)),
  onOff('no-touch', '7.2.0', 'Controls whether commands sent by the client affect the LRU/LFU of accessed keys.', (c, on) => (c.noTouch = on)),
  sub('setinfo', 4, CONN, conn('7.2.0', 'Sets information specific to the client or connection.', {
    syntax: 'LIB-NAME libname | LIB-VER libver',
  }), clientSetInfo),
  clientUnblockSpec,
  ...trackingSubcommands,
  { ...helpSubcommand('client', CLIENT_HELP, '5.0.0'), group: 'connection' },
];

/** Connection management commands served by the server core: HELLO, AUTH, RESET, CLIENT. */
export const clientCommands: CommandSpec[] = [
  {
    name: 'hello',
    arity: -1,
    flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'],
    group: 'connection',
    since: '6.0.0',
    summary: 'Handshakes with the Redis server.',
    complexity: 'O(1)',
    syntax: '[protover [AUTH username password] [SETNAME clientname]]',
    handler: hello,
  },
  {
    name: 'auth',
    arity: -2,
    flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'],
    group: 'connection',
    since: '1.0.0',
    summary: 'Authenticates the connection.',
    complexity: 'O(N) where N is the number of passwords defined for the user',
    syntax: '[username] password',
    handler: auth,
  },
  {
    name: 'reset',
    arity: 1,
    flags: ['noscript', 'loading', 'stale', 'fast', 'no_auth', 'allow_busy'],
    group: 'connection',
    since: '6.2.0',
    summary: 'Resets the connection.',
    complexity: 'O(1)',
    handler: reset,
  },
  {
    name: 'client',
    arity: -2,
    flags: [],
    group: 'connection',
    since: '2.4.0',
    summary: 'A container for client connection commands.',
    complexity: 'Depends on subcommand.',
    subcommands: clientSubcommands,
  },
];
