/**
 * Reads the ZooKeeper frames of one proxied connection, both ways, without changing a byte: which
 * request each client frame is (op, xid, the paths it names) and which request each server reply
 * answers (by xid, per connection). FaultProxy decides per frame what to do with it.
 *
 * The wire format is ZooKeeper's jute records (zookeeper-jute/src/main/resources/zookeeper.jute):
 * every message is a 4-byte big-endian length and a body. The client's first frame is a
 * ConnectRequest and the server's first a ConnectResponse (no headers); then every request is a
 * RequestHeader (int xid, int type) and its record, every reply a ReplyHeader (int xid, long zxid,
 * int err) and its record. A MultiOperationRecord is a sequence of (MultiHeader, op record) closed
 * by a header with done = true (org.apache.zookeeper.MultiOperationRecord).
 */
import { FrameSplitter } from '../client/connection/frame-splitter.js';
import { JuteReader } from '../client/protocol/jute.js';
import { OpCode } from '../client/protocol/op-codes.js';
import { readAcl, readMultiHeader } from '../client/protocol/records.js';

/** A request type by its name in ZooKeeper's `ZooDefs.OpCode` (e.g. `'create'`, `'multi'`). */
export type OpName = Exclude<keyof typeof OpCode, 'notification' | 'error'>;

const OP_NAMES = new Map<number, OpName>(
  Object.entries(OpCode)
    .filter(([name]) => name !== 'notification' && name !== 'error')
    .map(([name, code]) => [code, name as OpName]),
);

/** The op type named `name`, or undefined for a name ZooKeeper does not define. */
export function opCodeOf(name: string): number | undefined {
  for (const [code, known] of OP_NAMES) if (known === name) return code;
  return undefined;
}

/** A request the client sent, as the proxy read it. */
export interface RequestInfo {
  /** Request id; negative for the session's housekeeping (ping -2, auth -4, setWatches -8). */
  readonly xid: number;
  /** The op type of the request header. */
  readonly type: number;
  /** The op's name, or undefined for a type ZooKeeper does not define. */
  readonly op: OpName | undefined;
  /**
   * Every path the request names, as the server sees it (with the client's chroot): one for most
   * ops, one per op of a multi, every watched path of a setWatches; none for ping or auth.
   */
  readonly paths: readonly string[];
}

/** The header of a server reply. */
export interface ReplyInfo {
  readonly xid: number;
  readonly zxid: bigint;
  /** ZooKeeper's error code (`KeeperException.Code`); 0 is OK. */
  readonly err: number;
}

/** One complete frame and what it is. `bytes` are exactly the bytes on the wire (length prefix included). */
export type TappedFrame =
  | { readonly kind: 'connect'; readonly bytes: Buffer }
  | { readonly kind: 'request'; readonly bytes: Buffer; readonly request: RequestInfo }
  | { readonly kind: 'connected'; readonly bytes: Buffer }
  /** `request` is the request this reply answers; undefined for a notification or an unmatched xid. */
  | {
      readonly kind: 'reply';
      readonly bytes: Buffer;
      readonly reply: ReplyInfo;
      readonly request: RequestInfo | undefined;
    }
  /** Bytes of a connection that does not speak ZooKeeper frames (a four-letter word, TLS), passed on unread. */
  | { readonly kind: 'raw'; readonly bytes: Buffer };

/**
 * Frames are held until complete (at most this long); the server rejects anything above its
 * `jute.maxbuffer` anyway. A negative length is not ZooKeeper traffic.
 */
const MAX_FRAME = 0x7fffffff;
/** A ConnectRequest is about 50 bytes: a first "length" above this is not a ZooKeeper handshake. */
const MAX_CONNECT_REQUEST = 4096;

/** Reads a request record's paths, given the reader just after the request header. */
function readPaths(type: number, r: JuteReader): string[] {
  switch (type) {
    case OpCode.multi:
    case OpCode.multiRead:
      return readMultiPaths(r);
    case OpCode.setWatches:
    case OpCode.setWatches2: {
      r.long(); // relativeZxid
      const lists = type === OpCode.setWatches ? 3 : 5; // data, exist, child (+ persistent, persistentRecursive)
      const paths: string[] = [];
      for (let i = 0; i < lists && r.remaining > 0; i++) paths.push(...r.stringVector());
      return paths;
    }
    case OpCode.ping:
    case OpCode.auth:
    case OpCode.sasl:
    case OpCode.reconfig:
    case OpCode.whoAmI:
    case OpCode.closeSession:
      return [];
    default: {
      // Every other request record starts with its path (GetEphemeralsRequest: the prefix path).
      const path = r.string();
      return path === null ? [] : [path];
    }
  }
}

function readMultiPaths(r: JuteReader): string[] {
  const paths: string[] = [];
  for (;;) {
    const header = readMultiHeader(r);
    if (header.done) return paths;
    const path = r.string();
    if (path !== null) paths.push(path);
    skipAfterPath(header.type, r);
  }
}

/** Skips the rest of a multi op's record (after its path), so the next header can be read. */
function skipAfterPath(type: number, r: JuteReader): void {
  switch (type) {
    case OpCode.create:
    case OpCode.create2:
    case OpCode.createContainer:
    case OpCode.createTTL:
      r.bytes();
      readAcl(r);
      r.int(); // flags
      if (type === OpCode.createTTL) r.long();
      return;
    case OpCode.setData:
      r.bytes();
      r.int(); // version
      return;
    case OpCode.delete:
    case OpCode.check:
      r.int(); // version
      return;
    case OpCode.getData:
    case OpCode.getChildren:
      r.bool(); // watch
      return;
    default:
      throw new Error(`op ${type} cannot be part of a multi`);
  }
}

/** Decodes a request frame's body (after the length prefix). A record it cannot read has no paths. */
export function decodeRequest(body: Buffer): RequestInfo {
  const r = new JuteReader(body);
  const xid = r.int();
  const type = r.int();
  let paths: string[] = [];
  try {
    paths = readPaths(type, r);
  } catch {
    // A malformed or unknown record: the server will judge it; the proxy still forwards it.
  }
  return { xid, type, op: OP_NAMES.get(type), paths };
}

/** Decodes a reply frame's header. */
export function decodeReply(body: Buffer): ReplyInfo {
  const r = new JuteReader(body);
  return { xid: r.int(), zxid: r.long(), err: r.int() };
}

/**
 * One connection's two byte streams, split into frames and decoded. Feed each chunk as it
 * arrives; the handlers get every complete frame in order, with the exact bytes to forward.
 */
export class FrameTap {
  /** Not ZooKeeper traffic: everything is passed on as `raw`. Decided by the client's first 4 bytes. */
  private raw = false;
  private decided = false;
  private head: Buffer = Buffer.alloc(0);
  private connectSeen = false;
  private connectedSeen = false;
  /** Requests awaiting their reply, by xid (a FIFO per xid: pings may repeat one). */
  private readonly awaiting = new Map<number, RequestInfo[]>();
  private readonly clientFrames: FrameSplitter;
  private readonly serverFrames: FrameSplitter;

  constructor(
    private readonly toServer: (frame: TappedFrame) => void,
    private readonly toClient: (frame: TappedFrame) => void,
  ) {
    this.clientFrames = new FrameSplitter(MAX_FRAME, (buffer, start, end) =>
      this.onClientFrame(buffer.subarray(start - 4, end), buffer.subarray(start, end)),
    );
    this.serverFrames = new FrameSplitter(MAX_FRAME, (buffer, start, end) =>
      this.onServerFrame(buffer.subarray(start - 4, end), buffer.subarray(start, end)),
    );
  }

  /** Feeds client→server bytes. Throws on a negative frame length (the server would close the connection). */
  fromClient(chunk: Buffer): void {
    if (!this.decided) {
      this.head = Buffer.concat([this.head, chunk]);
      if (this.head.length < 4) return;
      const length = this.head.readInt32BE(0);
      this.raw = length < 0 || length > MAX_CONNECT_REQUEST;
      this.decided = true;
      chunk = this.head;
      this.head = Buffer.alloc(0);
    }
    if (this.raw) this.toServer({ kind: 'raw', bytes: chunk });
    else this.clientFrames.push(chunk);
  }

  /** Feeds server→client bytes. Throws on a negative frame length. */
  fromServer(chunk: Buffer): void {
    // A server speaks only after the client's first frame; before that, pass anything on.
    if (this.raw || !this.decided) this.toClient({ kind: 'raw', bytes: chunk });
    else this.serverFrames.push(chunk);
  }

  private onClientFrame(bytes: Buffer, body: Buffer): void {
    if (!this.connectSeen) {
      this.connectSeen = true;
      return this.toServer({ kind: 'connect', bytes });
    }
    if (body.length < 8) return this.toServer({ kind: 'raw', bytes });
    const request = decodeRequest(body);
    const queue = this.awaiting.get(request.xid);
    if (queue) queue.push(request);
    else this.awaiting.set(request.xid, [request]);
    this.toServer({ kind: 'request', bytes, request });
  }

  private onServerFrame(bytes: Buffer, body: Buffer): void {
    if (!this.connectedSeen) {
      this.connectedSeen = true;
      return this.toClient({ kind: 'connected', bytes });
    }
    if (body.length < 16) return this.toClient({ kind: 'raw', bytes });
    const reply = decodeReply(body);
    const queue = this.awaiting.get(reply.xid);
    const request = queue?.shift();
    if (queue?.length === 0) this.awaiting.delete(reply.xid);
    this.toClient({ kind: 'reply', bytes, reply, request });
  }
}
