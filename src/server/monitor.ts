/** One MONITOR line: `1339518083.107412 [0 127.0.0.1:60866] "keys" "*"`. */
export function formatMonitorLine(nowUs: number, db: number, addr: string, argv: readonly string[]): string {
  const sec = Math.floor(nowUs / 1e6);
  const usec = String(nowUs % 1e6).padStart(6, '0');
  let line = `${sec}.${usec} [${db} ${addr}]`;
  for (const a of redactArgs(argv)) line += ` ${quoteRepr(a)}`;
  return line;
}

/** sdscatrepr: a double-quoted, escaped representation of binary-safe text. */
export function quoteRepr(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    switch (c) {
      case 0x5c:
        out += '\\\\';
        break;
      case 0x22:
        out += '\\"';
        break;
      case 0x0a:
        out += '\\n';
        break;
      case 0x0d:
        out += '\\r';
        break;
      case 0x09:
        out += '\\t';
        break;
      case 0x07:
        out += '\\a';
        break;
      case 0x08:
        out += '\\b';
        break;
      default:
        out += c >= 0x20 && c < 0x7f ? s[i] : `\\x${c.toString(16).padStart(2, '0')}`;
    }
  }
  return `${out}"`;
}

/** Passwords never reach MONITOR or SLOWLOG: AUTH's arguments and HELLO's AUTH pair become "(redacted)". */
export function redactArgs(argv: readonly string[]): readonly string[] {
  const name = argv[0]!.toLowerCase();
  if (name === 'auth') return [argv[0]!, ...argv.slice(1).map(() => '(redacted)')];
  if (name !== 'hello') return argv;
  const out = [...argv];
  for (let i = 2; i + 2 < out.length; i++) {
    if (out[i]!.toUpperCase() === 'AUTH') out.splice(i + 1, 2, '(redacted)', '(redacted)');
  }
  return out;
}
