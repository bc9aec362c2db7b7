/**
 * Transactions (multi, op 14) and multiRead (op 22): encoding the op list and decoding the
 * per-op results (MultiOperationRecord / MultiResponse in ZooKeeper's source).
 *
 * @example
 *   const results = await zk.transaction()
 *     .create('/app/a', 'x')
 *     .set('/app/config', 'v2', { version: 3 })
 *     .check('/app/lock', 0)
 *     .delete('/app/old')
 *     .commit();
 */
import { brandErrorClasses } from './error-brand.js';
import {
  ProtocolError,
  RolledBackError,
  RuntimeInconsistencyError,
  ZooKeeperError,
  errorFromCode,
} from './errors.js';
import type { JuteReader, JuteWriter } from './protocol/jute.js';
import { OpCode } from './protocol/op-codes.js';
import {
  readGetData,
  readMultiHeader,
  readStat,
  writeCreate,
  writeMultiHeader,
  writePathInt,
  writePathWatch,
  writeSetData,
  type ACL,
  type CreateRecord,
  type Stat,
} from './protocol/records.js';

/** What a `Transaction` needs from the client: validated ops and a way to run them. */
export interface TransactionHost {
  createOp(path: string, data: unknown, options: CreateOpOptions | undefined): TransactionOp;
  versionedOp(type: 'delete' | 'check', path: string, version: unknown): TransactionOp;
  setOp(path: string, data: unknown, version: unknown): TransactionOp;
  multi(
    ops: TransactionOp[],
    options: { timeout?: number; signal?: AbortSignal; failFast?: boolean },
  ): Promise<OpResult[]>;
}

/** The create options that make sense inside a transaction (no `makePath`). */
export interface CreateOpOptions {
  ephemeral?: boolean;
  sequence?: boolean;
  container?: boolean;
  ttl?: number;
  acl?: readonly ACL[];
}

/**
 * A batch of writes applied atomically: all succeed, or none is applied and `commit` rejects
 * with a `TransactionError` listing each op's outcome. Paths are validated as ops are added.
 */
export class Transaction {
  private readonly ops: TransactionOp[] = [];

  constructor(private readonly host: TransactionHost) {}

  create(path: string, data?: Buffer | string | null, options?: CreateOpOptions): this {
    this.ops.push(this.host.createOp(path, data, options));
    return this;
  }

  delete(path: string, options: { version?: number } = {}): this {
    this.ops.push(this.host.versionedOp('delete', path, options.version ?? -1));
    return this;
  }

  set(path: string, data: Buffer | string | null, options: { version?: number } = {}): this {
    this.ops.push(this.host.setOp(path, data, options.version ?? -1));
    return this;
  }

  /** Fail the transaction unless `path` is at `version` (the only way to use `check`; ZooDefs.OpCode.check is valid only inside a multi). */
  check(path: string, version: number): this {
    this.ops.push(this.host.versionedOp('check', path, version));
    return this;
  }

  get size(): number {
    return this.ops.length;
  }

  /** Send the transaction; resolves with one result per op, or rejects with `TransactionError`. */
  commit(options: { timeout?: number; signal?: AbortSignal; failFast?: boolean } = {}): Promise<OpResult[]> {
    return this.host.multi(this.ops.slice(), options);
  }
}

/** One operation of a transaction, with server paths (the client applies the chroot). */
export type TransactionOp =
  | { type: 'create'; opCode: number; record: CreateRecord; path: string }
  | { type: 'delete'; path: string; version: number }
  | { type: 'set'; path: string; data: Uint8Array | null; version: number }
  | { type: 'check'; path: string; version: number };

/** The result of one transaction operation. `path` of a create is relative to the chroot. */
export type OpResult =
  | { type: 'create'; path: string; stat?: Stat }
  | { type: 'delete' }
  | { type: 'set'; stat: Stat }
  | { type: 'check' }
  | { type: 'error'; error: ZooKeeperError };

/**
 * A transaction failed and nothing was applied; `results` says what happened to each op. Its
 * `code` is the failing op's (e.g. `-103` for a `BadVersionError`).
 */
export class TransactionError extends ZooKeeperError {
  /** Index of the op that failed. */
  readonly failedIndex: number;
  /** The typed error of the failing op (e.g. a `BadVersionError`). */
  readonly error: ZooKeeperError;
  /** One `{ type: 'error' }` entry per op: `RolledBackError` before the failing op, its error, `RuntimeInconsistencyError` after it. */
  readonly results: OpResult[];

  constructor(failedIndex: number, error: ZooKeeperError, results: OpResult[]) {
    super(error.code, `transaction failed at op ${failedIndex}: ${error.message}`, { cause: error });
    this.failedIndex = failedIndex;
    this.error = error;
    this.results = results;
  }
}
brandErrorClasses({ TransactionError });

const opCodeOf: Record<Exclude<TransactionOp['type'], 'create'>, number> = {
  delete: OpCode.delete,
  set: OpCode.setData,
  check: OpCode.check,
};

export function writeMulti(w: JuteWriter, ops: readonly TransactionOp[]): void {
  for (const op of ops) {
    switch (op.type) {
      case 'create':
        writeMultiHeader(w, op.opCode, false);
        writeCreate(w, op.record);
        break;
      case 'set':
        writeMultiHeader(w, opCodeOf.set, false);
        writeSetData(w, op.path, op.data, op.version);
        break;
      default:
        writeMultiHeader(w, opCodeOf[op.type], false);
        writePathInt(w, op.path, op.version);
    }
  }
  writeMultiHeader(w, -1, true);
}

/**
 * Decode a MultiResponse. On failure the server answers err 0 with every result an error
 * (0 before the failing op, its code, then -2), so the caller checks for `type: 'error'`.
 */
export function readMulti(
  r: JuteReader,
  ops: readonly TransactionOp[],
  toClient: (path: string) => string,
): OpResult[] {
  const results: OpResult[] = [];
  for (;;) {
    const header = readMultiHeader(r);
    if (header.done) break;
    const op = ops[results.length];
    if (op === undefined) throw new ProtocolError('more multi results than operations');
    switch (header.type) {
      case OpCode.create:
        results.push({ type: 'create', path: toClient(r.requiredString()) });
        break;
      case OpCode.create2:
        results.push({ type: 'create', path: toClient(r.requiredString()), stat: readStat(r) });
        break;
      case OpCode.delete:
        results.push({ type: 'delete' });
        break;
      case OpCode.setData:
        results.push({ type: 'set', stat: readStat(r) });
        break;
      case OpCode.check:
        results.push({ type: 'check' });
        break;
      case OpCode.error: {
        const code = r.int();
        results.push({ type: 'error', error: errorFromCode(code, { op: op.type, path: toClient(op.path) }) });
        break;
      }
      default:
        throw new ProtocolError(`unexpected multi result type ${header.type}`);
    }
  }
  if (results.length !== ops.length)
    throw new ProtocolError(`${results.length} multi results for ${ops.length} operations`);
  return results;
}

/** The first real failure of a failed transaction, as a `TransactionError`; undefined on success. */
export function transactionFailure(results: OpResult[]): TransactionError | undefined {
  const errors = results.map((result) => (result.type === 'error' ? result.error : undefined));
  if (errors.every((error) => error === undefined)) return undefined;
  const isCause = (error: ZooKeeperError | undefined) =>
    error !== undefined &&
    !(error instanceof RolledBackError) &&
    !(error instanceof RuntimeInconsistencyError);
  const index = Math.max(
    errors.findIndex(isCause),
    errors.findIndex((error) => error !== undefined),
  );
  return new TransactionError(index, errors[index]!, results);
}

// ---- multiRead ----

/** One read of a `multiRead`: `get` or `getChildren` of a path. */
export type ReadOp = { type: 'getData'; path: string } | { type: 'getChildren'; path: string };

/** One result of a `multiRead`: the read's value, or its error (each read fails on its own). */
export type ReadResult =
  | { type: 'getData'; data: Buffer; stat: Stat }
  | { type: 'getChildren'; children: string[] }
  | { type: 'error'; error: ZooKeeperError };

export function writeMultiRead(w: JuteWriter, ops: readonly ReadOp[]): void {
  for (const op of ops) {
    writeMultiHeader(w, op.type === 'getData' ? OpCode.getData : OpCode.getChildren, false);
    writePathWatch(w, op.path, false);
  }
  writeMultiHeader(w, -1, true);
}

/** Decode a multiRead response; `ops` carry client paths for error context. */
export function readMultiRead(r: JuteReader, ops: readonly ReadOp[]): ReadResult[] {
  const results: ReadResult[] = [];
  for (;;) {
    const header = readMultiHeader(r);
    if (header.done) break;
    const op = ops[results.length];
    if (op === undefined) throw new ProtocolError('more multiRead results than operations');
    switch (header.type) {
      case OpCode.getData: {
        const { data, stat } = readGetData(r);
        results.push({ type: 'getData', data, stat });
        break;
      }
      case OpCode.getChildren:
        results.push({ type: 'getChildren', children: r.stringVector() });
        break;
      case OpCode.error:
        results.push({ type: 'error', error: errorFromCode(r.int(), { op: op.type, path: op.path }) });
        break;
      default:
        throw new ProtocolError(`unexpected multiRead result type ${header.type}`);
    }
  }
  if (results.length !== ops.length)
    throw new ProtocolError(`${results.length} multiRead results for ${ops.length} operations`);
  return results;
}
