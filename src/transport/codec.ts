import { Packr } from 'msgpackr';

/** Default bound on one encoded bus message (and on one gRPC message). */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * A message sent on several links (a deltas batch to every peer at the same
 * log position): the first send encodes it, the others reuse its frame
 * (encoding a batch twice was 5% of a replicating node's CPU).
 */
export class EncodeOnce {
  frame: Buffer | null = null;
  constructor(readonly message: unknown) {}
}

/** Why an inbound frame was dropped. */
export class FrameError extends Error {
  constructor(
    readonly reason: 'oversize' | 'undecodable',
    message: string,
  ) {
    super(message);
    this.name = 'FrameError';
  }
}

/**
 * One bus message <-> one MessagePack frame.
 *
 * Plain MessagePack only: no record structures and no structured-clone
 * references, so any MessagePack decoder reads a frame, and no frame depends
 * on state carried by an earlier one (frames can be lost, and a reconnect
 * starts a new stream). Maps decode as plain objects; msgpackr renames a
 * `__proto__` key, so a hostile frame cannot reach Object.prototype.
 */
export class BusCodec {
  private readonly packr = new Packr({
    useRecords: false,
    mapsAsObjects: true,
    // Explicitly false (not merely unset) so decoding rejects the reference extensions too.
    structuredClone: false,
    moreTypes: false,
    // Objects with more than 65535 keys need map32; the fixed-size default cannot encode them.
    variableMapSize: true,
    // A decoded Buffer must not pin the whole (up to maxMessageBytes) frame it arrived in.
    copyBuffers: true,
  });

  constructor(readonly maxMessageBytes = DEFAULT_MAX_MESSAGE_BYTES) {}

  /** Throws if the message is not encodable (that is the caller's bug, not a network condition). */
  encode(message: unknown): Buffer {
    if (message instanceof EncodeOnce) return (message.frame ??= this.packr.pack(message.message));
    return this.packr.pack(message);
  }

  /** Decodes one frame; throws FrameError when it is oversize, truncated, has trailing bytes or is not MessagePack. */
  decode(frame: Uint8Array): unknown {
    if (frame.length > this.maxMessageBytes) {
      throw new FrameError('oversize', `frame of ${frame.length} bytes exceeds ${this.maxMessageBytes}`);
    }
    try {
      return this.packr.unpack(frame);
    } catch (error) {
      // Includes RangeError from absurd lengths or nesting deep enough to overflow the stack.
      throw new FrameError('undecodable', error instanceof Error ? error.message : String(error));
    }
  }
}
