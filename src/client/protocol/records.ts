/**
 * The jute records of the ZooKeeper protocol (zookeeper.jute in ZooKeeper's source): one `write*` function per
 * request record and one `read*` function per response record. Field order is wire order.
 * Paths here are server paths: the chroot is applied by the client before and after.
 */
import { ProtocolError } from '../errors.js';
import type { JuteReader, JuteWriter } from './jute.js';
import { OpCode } from './op-codes.js';

/** A znode's metadata. 64-bit zxids and the session id are `bigint`; times are epoch milliseconds. */
export interface Stat {
  czxid: bigint;
  mzxid: bigint;
  ctime: number;
  mtime: number;
  version: number;
  cversion: number;
  aversion: number;
  /** The owning session id for an ephemeral node, `0n` otherwise. */
  ephemeralOwner: bigint;
  dataLength: number;
  numChildren: number;
  pzxid: bigint;
}

/** An ACL identity: a scheme (`world`, `digest`, `sasl`, `ip`, ...) and its id (jute `Id`). */
export interface Id {
  scheme: string;
  id: string;
}

/** One access-control entry: permission bits and the identity they are granted to (jute `ACL`). */
export interface ACL {
  /** A bit set of `Perms`. */
  perms: number;
  id: Id;
}

/** Who the server thinks this session is (whoAmI). */
export interface ClientInfo {
  authScheme: string;
  user: string;
}

export interface WatcherEventRecord {
  type: number;
  state: number;
  path: string;
}

export interface ConnectRequest {
  lastZxidSeen: bigint;
  timeout: number;
  sessionId: bigint;
  password: Buffer;
  readOnly: boolean;
}

export interface ConnectResponse {
  timeout: number;
  sessionId: bigint;
  password: Buffer;
  readOnly: boolean;
}

export const STAT_BYTES = 68;

// ---- connect handshake (no request/reply header) ----

export function writeConnectRequest(w: JuteWriter, request: ConnectRequest): void {
  w.int(0); // protocolVersion
  w.long(request.lastZxidSeen);
  w.int(request.timeout);
  w.long(request.sessionId);
  w.bytes(request.password);
  w.bool(request.readOnly);
}

/** 36 bytes from an "old client" server, 37 with the readOnly byte; anything shorter is a failed handshake. */
export function readConnectResponse(r: JuteReader): ConnectResponse {
  if (r.remaining < 36) throw new ProtocolError(`connect response of ${r.remaining} bytes is too short`);
  r.int(); // protocolVersion
  const timeout = r.int();
  const sessionId = r.long();
  const password = r.bytes() ?? Buffer.alloc(0);
  const readOnly = r.remaining > 0 ? r.bool() : false;
  return { timeout, sessionId, password, readOnly };
}

// ---- request records ----

export function writeRequestHeader(w: JuteWriter, xid: number, type: number): void {
  w.int(xid);
  w.int(type);
}

export function writeAcl(w: JuteWriter, acl: readonly ACL[]): void {
  w.int(acl.length);
  for (const entry of acl) {
    w.int(entry.perms);
    w.string(entry.id.scheme);
    w.string(entry.id.id);
  }
}

export interface CreateRecord {
  path: string;
  data: Uint8Array | null;
  acl: readonly ACL[];
  flags: number;
  /** Only for createTTL (op 21). */
  ttl?: number | undefined;
}

export function writeCreate(w: JuteWriter, record: CreateRecord): void {
  w.string(record.path);
  w.bytes(record.data);
  writeAcl(w, record.acl);
  w.int(record.flags);
  if (record.ttl !== undefined) w.long(record.ttl);
}

/** Records that are a path and an int: delete, check (version), checkWatches/removeWatches (type), addWatch (mode). */
export function writePathInt(w: JuteWriter, path: string, value: number): void {
  w.string(path);
  w.int(value);
}

/** Records that are a path and a watch flag: exists, getData, getChildren, getChildren2. */
export function writePathWatch(w: JuteWriter, path: string, watch: boolean): void {
  w.string(path);
  w.bool(watch);
}

export function writeSetData(w: JuteWriter, path: string, data: Uint8Array | null, version: number): void {
  w.string(path);
  w.bytes(data);
  w.int(version);
}

export function writeSetAcl(w: JuteWriter, path: string, acl: readonly ACL[], version: number): void {
  w.string(path);
  writeAcl(w, acl);
  w.int(version);
}

export function writeAuth(w: JuteWriter, scheme: string, auth: Uint8Array): void {
  w.int(0);
  w.string(scheme);
  w.bytes(auth);
}

export interface SetWatchesRecord {
  relativeZxid: bigint;
  data: string[];
  exist: string[];
  child: string[];
  persistent: string[];
  persistentRecursive: string[];
}

/** SetWatches (101) when there are no persistent paths, SetWatches2 (105) otherwise. */
export function setWatchesOpCode(record: SetWatchesRecord): number {
  return record.persistent.length + record.persistentRecursive.length > 0
    ? OpCode.setWatches2
    : OpCode.setWatches;
}

export function writeSetWatches(w: JuteWriter, record: SetWatchesRecord): void {
  w.long(record.relativeZxid);
  w.stringVector(record.data);
  w.stringVector(record.exist);
  w.stringVector(record.child);
  if (setWatchesOpCode(record) === OpCode.setWatches2) {
    w.stringVector(record.persistent);
    w.stringVector(record.persistentRecursive);
  }
}

export function writeReconfig(
  w: JuteWriter,
  joining: string | null,
  leaving: string | null,
  newMembers: string | null,
  fromConfig: bigint,
): void {
  w.string(joining);
  w.string(leaving);
  w.string(newMembers);
  w.long(fromConfig);
}

/** MultiHeader: `done` is true only on the terminator, whose type is -1. */
export function writeMultiHeader(w: JuteWriter, type: number, done: boolean): void {
  w.int(type);
  w.bool(done);
  w.int(-1);
}

// ---- response records ----

export function readStat(r: JuteReader): Stat {
  return {
    czxid: r.long(),
    mzxid: r.long(),
    ctime: r.longAsNumber(),
    mtime: r.longAsNumber(),
    version: r.int(),
    cversion: r.int(),
    aversion: r.int(),
    ephemeralOwner: r.long(),
    dataLength: r.int(),
    numChildren: r.int(),
    pzxid: r.long(),
  };
}

export function readAclEntry(r: JuteReader): ACL {
  const perms = r.int();
  const scheme = r.requiredString();
  const id = r.requiredString();
  return { perms, id: { scheme, id } };
}

export function readAcl(r: JuteReader): ACL[] {
  return r.vector(readAclEntry, 12);
}

export function readClientInfo(r: JuteReader): ClientInfo {
  return { authScheme: r.requiredString(), user: r.requiredString() };
}

export function readWatcherEvent(r: JuteReader): WatcherEventRecord {
  return { type: r.int(), state: r.int(), path: r.requiredString() };
}

/** What `get` returns: the node's data and its Stat. */
export interface GetDataResult {
  data: Buffer;
  stat: Stat;
}

/**
 * The server's side of a getData reply (the record `readGetData` reads): lets a cache keep a node's
 * data and Stat as one compact copy and decode it when asked.
 */
export function writeGetData(w: JuteWriter, { data, stat }: GetDataResult): void {
  w.bytes(data);
  writeStat(w, stat);
}

/** Encode a Stat the way the server does (68 bytes, wire order): the record `readStat` reads. */
export function writeStat(w: JuteWriter, stat: Stat): void {
  w.long(stat.czxid);
  w.long(stat.mzxid);
  w.long(stat.ctime);
  w.long(stat.mtime);
  w.int(stat.version);
  w.int(stat.cversion);
  w.int(stat.aversion);
  w.long(stat.ephemeralOwner);
  w.int(stat.dataLength);
  w.int(stat.numChildren);
  w.long(stat.pzxid);
}

/** getData: null data (created without any) is returned as an empty buffer, as kazoo does. */
export function readGetData(r: JuteReader): GetDataResult {
  const data = r.bytes() ?? Buffer.alloc(0);
  return { data, stat: readStat(r) };
}

/** What `getChildren(path, { stat: true })` returns: the names and the parent's Stat. */
export interface ChildrenResult {
  children: string[];
  stat: Stat;
}

export function readChildren2(r: JuteReader): ChildrenResult {
  return { children: r.stringVector(), stat: readStat(r) };
}

export interface MultiHeader {
  type: number;
  done: boolean;
  err: number;
}

export function readMultiHeader(r: JuteReader): MultiHeader {
  return { type: r.int(), done: r.bool(), err: r.int() };
}
