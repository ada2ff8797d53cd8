// Node's Buffer has fast latin1 codecs that @types/node does not declare; they
// are what Buffer.toString('latin1') and buf.write(s, 'latin1') call underneath.
declare global {
  interface Buffer {
    latin1Slice(start?: number, end?: number): string;
    latin1Write(text: string, offset?: number, length?: number): number;
  }
}
export {};
