import { describe, expect, it } from 'vitest';
import { useServer } from '../helpers/fixture.js';

describe('connection commands', () => {
  const t = useServer();

  it('HELLO switches protocol and replies the server map', async () => {
    const r = t.ioredis();
    const reply = (await r.call('hello', '2')) as unknown[];
    expect(reply.slice(0, 6)).toEqual(['server', 'redis', 'version', '7.0.15', 'proto', 2]);
    expect(reply.slice(8)).toEqual(['mode', 'standalone', 'role', 'master', 'modules', []]);
    await expect(r.call('hello', '4')).rejects.toThrow('NOPROTO unsupported protocol version');
    await expect(r.call('hello', 'x')).rejects.toThrow('ERR Protocol version is not an integer or out of range');
    await expect(r.call('hello', '2', 'bogus')).rejects.toThrow("ERR Syntax error in HELLO option 'bogus'");
    await r.call('hello', '2', 'setname', 'me');
    expect(await r.call('client', 'getname')).toBe('me');
  });

  it('HELLO 3 answers a RESP3 map', async () => {
    const c = await t.connect();
    c.write('HELLO 3\r\n');
    const text = await c.until((s) => s.includes('modules'));
    expect(text.startsWith('%7\r\n$6\r\nserver\r\n$5\r\nredis\r\n')).toBe(true);
    c.close();
  });

  it('AUTH without requirepass gives Redis error text', async () => {
    const r = t.ioredis();
    await expect(r.call('auth', 'x')).rejects.toThrow(
      'ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?',
    );
    expect(await r.call('auth', 'default', 'anything')).toBe('OK');
    await expect(r.call('auth', 'nouser', 'x')).rejects.toThrow('WRONGPASS invalid username-password pair or user is disabled.');
    await expect(r.call('auth', 'a', 'b', 'c')).rejects.toThrow('ERR syntax error');
  });

  it('CLIENT ID / SETNAME / GETNAME / INFO / LIST', async () => {
    const r = t.ioredis();
    const id = (await r.call('client', 'id')) as number;
    expect(await r.call('client', 'getname')).toBeNull();
    await expect(r.call('client', 'setname', 'a b')).rejects.toThrow('ERR Client names cannot contain spaces, newlines or special characters.');
    expect(await r.call('client', 'setname', 'alice')).toBe('OK');
    const info = (await r.call('client', 'info')) as string;
    expect(info).toMatch(new RegExp(`^id=${id} addr=\\S+ laddr=\\S+ fd=-?\\d+ name=alice age=\\d+ idle=\\d+ flags=N db=0 sub=0 psub=0 ssub=0 multi=-1 qbuf=\\d+ qbuf-free=\\d+ argv-mem=\\d+ multi-mem=0 rbs=\\d+ rbp=\\d+ obl=0 oll=0 omem=0 tot-mem=\\d+ events=r cmd=client\\|info user=default redir=-1 resp=[23] lib-name=\\S* lib-ver=\\S*\\n$`));
    const list = (await r.call('client', 'list', 'id', String(id))) as string;
    expect(list).toContain(`id=${id} `);
    expect(list).toContain('cmd=client|list');
    expect(await r.call('client', 'list', 'type', 'normal')).toContain('name=alice');
    await expect(r.call('client', 'list', 'type', 'bogus')).rejects.toThrow("ERR Unknown client type 'bogus'");
    await expect(r.call('client', 'list', 'id', 'x')).rejects.toThrow('ERR Invalid client ID');
    await expect(r.call('client', 'list', 'foo')).rejects.toThrow('ERR syntax error');
  });

  it('CLIENT KILL old and new forms with their errors', async () => {
    const r = t.ioredis();
    const victim = t.ioredis();
    await victim.ping();
    const vid = (await victim.call('client', 'id')) as number;
    await expect(r.call('client', 'kill')).rejects.toThrow("ERR wrong number of arguments for 'client|kill' command");
    await expect(r.call('client', 'kill', 'id', '0')).rejects.toThrow('ERR client-id should be greater than 0');
    await expect(r.call('client', 'kill', 'type', 'x')).rejects.toThrow("ERR Unknown client type 'x'");
    await expect(r.call('client', 'kill', 'user', 'nobody')).rejects.toThrow("ERR No such user 'nobody'");
    await expect(r.call('client', 'kill', 'skipme', 'maybe')).rejects.toThrow('ERR syntax error');
    await expect(r.call('client', 'kill', 'id', '10', 'extra')).rejects.toThrow('ERR syntax error');
    await expect(r.call('client', 'kill', '1.2.3.4:5')).rejects.toThrow('ERR No such client');
    expect(await r.call('client', 'kill', 'id', String(vid))).toBe(1);
    expect(await r.call('client', 'kill', 'id', String(vid))).toBe(0);
  });

  it('CLIENT KILL addr (old form) and SKIPME no closes self', async () => {
    const c = await t.connect();
    c.write('CLIENT INFO\r\n');
    const info = await c.until((s) => s.endsWith('\n\r\n'));
    const addr = /addr=(\S+)/.exec(info)![1]!;
    const r = t.ioredis();
    expect(await r.call('client', 'kill', addr)).toBe('OK');
    await c.closedByServer();
    const me = await t.connect();
    me.write('CLIENT KILL SKIPME no ID 999999\r\nCLIENT KILL ADDR 0.0.0.0:1 SKIPME no\r\n');
    expect(await me.lines(2)).toBe(':0\r\n:0\r\n');
    me.close();
  });

  it('CLIENT REPLY OFF / ON / SKIP', async () => {
    const c = await t.connect();
    c.write('CLIENT REPLY OFF\r\nPING a\r\nCLIENT REPLY ON\r\nPING b\r\n');
    expect(await c.lines(3)).toBe('+OK\r\n$1\r\nb\r\n');
    c.write('CLIENT REPLY SKIP\r\nPING c\r\nPING d\r\n');
    expect(await c.lines(2)).toBe('$1\r\nd\r\n');
    c.write('CLIENT REPLY maybe\r\n');
    expect(await c.lines(1)).toBe('-ERR syntax error\r\n');
    c.close();
  });

  it('CLIENT PAUSE / UNPAUSE, NO-EVICT, NO-TOUCH, SETINFO, HELP', async () => {
    const r = t.ioredis();
    await expect(r.call('client', 'pause', '10', 'bogus')).rejects.toThrow('ERR CLIENT PAUSE mode must be WRITE or ALL');
    await expect(r.call('client', 'pause', 'x')).rejects.toThrow('ERR timeout is not an integer or out of range');
    await expect(r.call('client', 'pause', '-1')).rejects.toThrow('ERR timeout is negative');
    expect(await r.call('client', 'pause', '100000', 'write')).toBe('OK');
    expect(t.server.pauseKind).toBe('write');
    expect(await r.call('client', 'unpause')).toBe('OK');
    expect(t.server.pauseKind).toBeNull();
    expect(await r.call('client', 'no-evict', 'on')).toBe('OK');
    expect(await r.call('client', 'no-touch', 'on')).toBe('OK');
    await expect(r.call('client', 'no-evict', 'x')).rejects.toThrow('ERR syntax error');
    expect(await r.call('client', 'info')).toContain('flags=eT');
    expect(await r.call('client', 'setinfo', 'lib-name', 'mylib')).toBe('OK');
    expect(await r.call('client', 'setinfo', 'LIB-VER', '1.0')).toBe('OK');
    await expect(r.call('client', 'setinfo', 'bad', 'x')).rejects.toThrow("ERR Unrecognized option 'bad'");
    await expect(r.call('client', 'setinfo', 'lib-name', 'a b')).rejects.toThrow('ERR lib-name cannot contain spaces');
    expect(await r.call('client', 'info')).toContain('lib-name=mylib lib-ver=1.0');
    const help = (await r.call('client', 'help')) as string[];
    expect(help[0]).toBe('CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:');
    expect(help[help.length - 2]).toBe('HELP');
    await expect(r.call('client', 'bogus')).rejects.toThrow("ERR unknown subcommand 'bogus'. Try CLIENT HELP.");
  });

  it('RESET restores a fresh connection', async () => {
    const c = await t.connect();
    c.write('HELLO 3 SETNAME x\r\n');
    await c.until((s) => s.includes('modules'));
    c.write('SELECT 2\r\nRESET\r\nCLIENT GETNAME\r\nCLIENT INFO\r\n');
    const out = await c.until((s) => s.includes('resp='));
    expect(out.startsWith('+OK\r\n+RESET\r\n$-1\r\n')).toBe(true);
    expect(out).toContain('db=0');
    expect(out).toContain('resp=2');
    c.close();
  });

  it('works with node-redis over RESP3', async () => {
    const r = await t.nodeRedis(3);
    expect(typeof (await r.clientId())).toBe('number');
    expect(await r.sendCommand(['CLIENT', 'SETNAME', 'n3'])).toBe('OK');
    expect(String(await r.sendCommand(['CLIENT', 'INFO']))).toContain('resp=3');
  });
});

describe('requirepass', () => {
  const t = useServer({ config: { requirepass: 'secret' } });

  it('needs AUTH, accepts HELLO AUTH, rejects wrong passwords', async () => {
    const c = await t.connect();
    c.write('PING\r\nHELLO 2\r\nAUTH wrong\r\nAUTH secret\r\nPING\r\n');
    const out = await c.lines(5);
    expect(out).toBe(
      '-NOAUTH Authentication required.\r\n' +
        '-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol version at the same time\r\n' +
        '-WRONGPASS invalid username-password pair or user is disabled.\r\n+OK\r\n+PONG\r\n',
    );
    c.write('RESET\r\nPING\r\n');
    expect(await c.lines(2)).toBe('+RESET\r\n-NOAUTH Authentication required.\r\n');
    c.write('HELLO 3 AUTH default secret\r\n');
    expect(await c.until((s) => s.includes('modules'))).toMatch(/^%7/);
    c.close();
  });
});
