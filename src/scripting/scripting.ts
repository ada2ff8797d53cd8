/**
 * The scripting state of one server: the EVAL script cache and the FUNCTION
 * libraries (each with its own Lua sandbox), the running script, and the
 * bridge through which scripts run commands: a pseudo-client whose replies
 * are converted back to Lua, through Server.execute, so commands from
 * scripts take the normal write path (WATCH, notifications, replication).
 */
import { arityOk } from '../commands/table.js';
import { FLAG } from '../commands/types.js';
import { Client } from '../server/client.js';
import type { Server } from '../server/server.js';
import type { StreamSocket } from '../runtime/index.js';
import { EvalScripts } from './eval.js';
import { FunctionLibraries } from './functions.js';
import { ScriptRun, type RunHost, type RunOptions } from './run.js';

export const BUSY_EVAL = 'BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.';
export const BUSY_FUNCTION = 'BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE.';

const perServer = new WeakMap<Server, Scripting>();

export class Scripting implements RunHost {
  readonly eval: EvalScripts;
  readonly functions: FunctionLibraries;
  /** The script running now (possibly yielded while the server is busy), or null. */
  current: ScriptRun | null = null;
  private readonly client: Client;

  static of(server: Server): Scripting {
    let s = perServer.get(server);
    if (s === undefined) {
      s = new Scripting(server);
      perServer.set(server, s);
    }
    return s;
  }

  private constructor(private readonly server: Server) {
    this.eval = new EvalScripts(server.log);
    this.functions = new FunctionLibraries(server.log, () => this.monotonicMs());
    this.client = new Client(server.clients.allocateId(), detachedSocket(), server);
    this.client.monitorLabel = 'lua';
  }

  /** Runs a script for its caller; the reply is written now, or later if the script turns busy. */
  run(opts: RunOptions): void {
    const run = new ScriptRun(this, opts);
    this.current = run;
    // SELECT inside a script changes the script's database only, for this run.
    this.client.db = opts.caller.db;
    // EVAL/FCALL show in MONITOR before the commands they run (they skip the usual after-the-command feed).
    if (this.server.clients.monitors.size > 0) this.server.feedMonitors(opts.caller, opts.argv);
    // A script's writes replicate as one unit, even when it runs across event-loop turns.
    this.server.beginAtomic();
    run.start();
  }

  // ---- RunHost -----------------------------------------------------------

  command(run: ScriptRun, argv: string[]): Buffer | { error: string } {
    const s = this.server;
    const cmd = s.commands.lookup(argv);
    if (cmd === undefined || cmd.handler === null) return { error: 'Unknown Redis command called from script' };
    if (!arityOk(cmd.arity, argv.length)) return { error: 'Wrong number of args calling Redis command from script' };
    if ((cmd.flagBits & FLAG.noscript) !== 0) return { error: 'This Redis command is not allowed from script' };
    if (run.opts.readOnly && (cmd.flagBits & (FLAG.write | FLAG.may_replicate)) !== 0) {
      return { error: 'Write commands are not allowed from read-only scripts.' };
    }
    if ((cmd.flagBits & FLAG.write) !== 0) run.wrote = true;
    const c = this.client;
    c.reply.resp = run.resp;
    s.blocking.runNonBlocking(() => s.execute(c, cmd, argv));
    return c.reply.take() ?? Buffer.from('+OK\r\n');
  }

  knows(argv: string[]): boolean {
    return this.server.commands.lookup(argv) !== undefined;
  }

  busyThresholdMs(): number {
    return this.server.config.int('busy-reply-threshold');
  }

  monotonicMs(): number {
    return this.server.runtime.clock.monotonicMs();
  }

  enterBusy(run: ScriptRun): void {
    this.server.log.warn(
      { elapsedMs: Math.round(this.monotonicMs() - run.startedMs), script: run.opts.name },
      `Slow script detected: still in execution. You can try killing the script using the ${run.opts.isEval ? 'SCRIPT KILL' : 'FUNCTION KILL'} command.`,
    );
    this.server.busyError = run.opts.isEval ? BUSY_EVAL : BUSY_FUNCTION;
    run.caller.beginWait();
  }

  later(fn: () => void): void {
    this.server.runtime.timer.setImmediate(() => {
      this.server.beginBatch();
      fn();
    });
  }

  ended(run: ScriptRun): void {
    this.current = null;
    this.server.endAtomic();
    if (!run.busy) return;
    this.server.busyError = null;
    // The caller's reply was held while the script ran across event-loop turns.
    run.caller.endWait();
    run.caller.flush();
    if (this.server.blocking.hasReady) this.server.blocking.serveReady();
  }

  /** SCRIPT KILL / FUNCTION KILL. */
  kill(c: Client, isEval: boolean): void {
    const run = this.current;
    if (run === null) return c.error('NOTBUSY No scripts in execution right now.');
    if (run.wrote) {
      return c.error(
        'UNKILLABLE Sorry the script already executed write commands against the dataset. You can either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE command.',
      );
    }
    if (isEval !== run.opts.isEval) return c.error(isEval ? BUSY_FUNCTION : BUSY_EVAL);
    run.killed = true;
    c.reply.ok();
  }
}

/** The pseudo-client's socket: scripts read replies from its writer; nothing is ever sent. */
function detachedSocket(): StreamSocket {
  const socket: StreamSocket = {
    writableLength: 0,
    write: () => true,
    end: () => undefined,
    destroy: () => undefined,
    pause: () => undefined,
    resume: () => undefined,
    on: () => socket,
  };
  return socket;
}
