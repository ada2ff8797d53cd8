import type { KeyMeta } from '../crdt/key-meta.js';
import type { Bytes } from '../store/entry.js';
import { hllMerge, hllRegisters, hllValidate } from '../store/hll.js';
import { bytesHash } from './merkle.js';

/**
 * HyperLogLog under replication: PFADD and PFMERGE keep the key's version
 * (like INCR) and replicas join their values register by register (max),
 * so every element added anywhere is counted everywhere. A key in this mode
 * carries the hash of its registers in its digest: the bytes may differ
 * between replicas (cached count, sparse or dense) while the registers, and
 * so PFCOUNT, agree.
 */

function asBuffer(v: Bytes): Buffer {
  return typeof v === 'string' ? Buffer.from(v, 'latin1') : v;
}

/** Hash of an HLL value's registers (encoding and cached count left out); 0 if it is not a valid HLL. */
export function registersHash(v: Bytes): number {
  const buf = asBuffer(v);
  if (!hllValidate(buf)) return 0;
  const regs = hllRegisters(buf);
  if (regs === null) return 0;
  return bytesHash(regs) || 1;
}

/** Marks meta as register-merged with the value's registers; false if the value is not a valid HLL. */
export function markRegisterMerged(meta: KeyMeta, v: Bytes): boolean {
  meta.registersHash = registersHash(v);
  return meta.registersHash !== 0;
}

/** The register-wise join of two HLL values, or null when either is not a valid HLL. */
export function joinHll(local: Bytes, remote: Bytes): Buffer | null {
  const a = asBuffer(local);
  const b = asBuffer(remote);
  if (!hllValidate(a) || !hllValidate(b)) return null;
  return hllMerge(a, b);
}
