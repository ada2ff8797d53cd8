// Feeds pre-encoded SET commands through the real parser, dispatcher and reply
// writer of a node (no sockets) and prints microseconds per command.
// Build first: npm run build.   Usage: node bench/command-path.mjs [pipeline]
import { EventEmitter } from 'node:events';
import { silentLogger } from '../dist/src/log.js';
import { configFrom, createNode } from '../dist/src/node.js';
import { realRuntime } from '../dist/src/runtime/index.js';
import { Client } from '../dist/src/server/client.js';

class NullSocket extends EventEmitter {
  writableLength = 0;
  write() {
    return true;
  }
  end() {}
  destroy() {}
  pause() {}
  resume() {}
}

const pipeline = Number(process.argv[2] ?? 1);
const server = createNode({ runtime: realRuntime(), config: configFrom([['port', '0']]), log: silentLogger() });
const socket = new NullSocket();
const client = new Client(1, socket, server);
server.clients.add(client);
const one = `*3\r\n$3\r\nSET\r\n$16\r\nkey:000000012345\r\n$64\r\n${'x'.repeat(64)}\r\n`;
const chunk = Buffer.from(one.repeat(pipeline), 'latin1');
for (let i = 0; i < 200_000; i++) socket.emit('data', chunk); // warm up the JIT
const batches = Math.ceil(1_000_000 / pipeline);
const started = performance.now();
for (let i = 0; i < batches; i++) socket.emit('data', chunk);
const elapsedMs = performance.now() - started;
console.log(`SET P=${pipeline}: ${((elapsedMs * 1000) / (batches * pipeline)).toFixed(3)} us/command`);
