// Node's Buffer has fast latin1 and utf8 codecs that @types/node does not
// declare; they are what Buffer.toString(encoding) and buf.write(s, encoding)
// call underneath.
declare global {
  interface Buffer {
    latin1Slice(start?: number, end?: number): string;
    latin1Write(text: string, offset?: number, length?: number): number;
    utf8Slice(start?: number, end?: number): string;
    utf8Write(text: string, offset?: number, length?: number): number;
  }
}
export {};
