/**
 * COMMAND DOCS "arguments" derived from a spec's syntax string, e.g.
 * "key value [NX | XX] [EX seconds | PX milliseconds] [field value ...]":
 * UPPERCASE words are tokens, lowercase words arguments, [..] optional,
 * <..> required groups, "|" alternatives (oneof), "..." repetition.
 */
export interface DocArg {
  name: string;
  type: 'string' | 'integer' | 'double' | 'key' | 'pattern' | 'unix-time' | 'pure-token' | 'oneof' | 'block';
  token?: string;
  keySpecIndex?: number;
  flags: ('optional' | 'multiple')[];
  arguments?: DocArg[];
}

const INTEGER_NAMES = /^(count|numkeys|numkeys|offset|index|start|end|stop|seconds|milliseconds|timeout|db|port|len|limit|increment|numreplicas|delta|bit|value-int|position|destination-db|samples)$/;

function argType(name: string): DocArg['type'] {
  if (name === 'key' || name.endsWith('key') || name === 'source' || name === 'destination') return 'key';
  if (name.startsWith('unix-time')) return 'unix-time';
  if (name === 'pattern') return 'pattern';
  if (name === 'score' || name === 'min' || name === 'max' || name === 'longitude' || name === 'latitude' || name === 'radius') return 'double';
  return INTEGER_NAMES.test(name) ? 'integer' : 'string';
}

function tokenize(syntax: string): string[] {
  return syntax.replace(/([[\]<>|])/g, ' $1 ').split(/\s+/).filter(Boolean);
}

class Parser {
  private i = 0;
  private keyIndex = 0;
  constructor(private readonly toks: string[]) {}

  /** A sequence of items up to a closing bracket or "|". */
  seq(): DocArg[] {
    const out: DocArg[] = [];
    while (this.i < this.toks.length && ![']', '>', '|'].includes(this.toks[this.i]!)) {
      const t = this.toks[this.i]!;
      if (t === '...') {
        this.i++;
        continue;
      }
      if (t === '[' || t === '<') {
        this.i++;
        const group = this.alternatives(t === '[' ? ']' : '>');
        if (!this.mergeRepeat(out, group)) out.push(...(t === '[' ? group.map(optional) : group));
        continue;
      }
      out.push(this.word());
    }
    return out;
  }

  /** "[x ...]" after x (or "[a b ...]" after a b): marks the earlier item(s) multiple instead of adding. */
  private mergeRepeat(out: DocArg[], group: DocArg[]): boolean {
    if (this.toks[this.i - 2] !== '...') return false;
    const n = group.length === 1 && group[0]!.type === 'block' ? group[0]!.arguments!.length : group.length;
    if (n === 0 || out.length < n) return false;
    const items = out.splice(out.length - n, n);
    if (n === 1) out.push({ ...items[0]!, flags: [...items[0]!.flags, 'multiple'] });
    else out.push({ name: items.map((a) => a.name).join('-'), type: 'block', flags: ['multiple'], arguments: items });
    return true;
  }

  /** alt ("|" alt)* then the closing bracket; one oneof arg, or the sequence itself. */
  private alternatives(close: string): DocArg[] {
    const alts: DocArg[][] = [this.seq()];
    while (this.toks[this.i] === '|') {
      this.i++;
      alts.push(this.seq());
    }
    if (this.toks[this.i] === close) this.i++;
    if (alts.length === 1) return alts[0]!.length > 1 && this.toks[this.i - 2] !== '...' ? [block(alts[0]!)] : alts[0]!;
    const args = alts.map((a) => (a.length === 1 ? a[0]! : block(a)));
    return [{ name: args.map((a) => a.name).join('-'), type: 'oneof', flags: [], arguments: args }];
  }

  /** A token (with the arguments that follow it) or a plain argument. */
  private word(): DocArg {
    const t = this.toks[this.i++]!;
    if (t !== t.toUpperCase() || !/[A-Z]/.test(t)) {
      const type = argType(t);
      return type === 'key' ? { name: t, type, keySpecIndex: this.keyIndex++, flags: [] } : { name: t, type, flags: [] };
    }
    const follow: DocArg[] = [];
    while (this.i < this.toks.length && /^[a-z]/.test(this.toks[this.i]!)) follow.push(this.word());
    if (follow.length === 0) return { name: t.toLowerCase(), type: 'pure-token', token: t, flags: [] };
    if (follow.length === 1) return { ...follow[0]!, token: t };
    return { name: t.toLowerCase(), type: 'block', token: t, flags: [], arguments: follow };
  }
}

function optional(a: DocArg): DocArg {
  return { ...a, flags: ['optional', ...a.flags.filter((f) => f !== 'optional')] };
}

function block(args: DocArg[]): DocArg {
  return { name: args.map((a) => a.name).join('-'), type: 'block', flags: [], arguments: args };
}

/** The argument tree of a syntax string. */
export function docArguments(syntax: string): DocArg[] {
  return new Parser(tokenize(syntax)).seq();
}
