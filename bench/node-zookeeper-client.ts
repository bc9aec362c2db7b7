/**
 * The benchmark client program for node-zookeeper-client (pure JavaScript peer):
 * `node dist/bench/node-zookeeper-client.js --connect HOSTS --workloads a,b,c --scale F --no-warmup`.
 * The library has no lock recipe: the lock workloads skip (or, with `--emulated-lock`, run the
 * bench's kazoo-style recipe on its API).
 */
import {
  eventTypeName,
  fromCallback,
  loadPeer,
  now,
  runBenchmark,
  SESSION_TIMEOUT_MS,
  type BenchClient,
  type BenchSession,
  type CreateKind,
  type WatchCallback,
} from './harness.js';

type Callback<T> = (error: unknown, value?: T) => void;

/** The part of node-zookeeper-client 1.x the bench uses. */
interface NzcClient {
  connect(): void;
  close(): void;
  once(event: 'connected' | 'disconnected', listener: () => void): void;
  getData(path: string, callback: Callback<Buffer>): void;
  getData(path: string, watcher: (event: { getType(): number }) => void, callback: Callback<Buffer>): void;
  setData(path: string, data: Buffer, version: number, callback: Callback<unknown>): void;
  create(path: string, data: Buffer, acls: unknown[], mode: number, callback: Callback<string>): void;
  remove(path: string, version: number, callback: Callback<void>): void;
  getChildren(path: string, callback: Callback<string[]>): void;
}

interface Nzc {
  createClient(connect: string, options: { sessionTimeout: number }): NzcClient;
  ACL: { OPEN_ACL_UNSAFE: unknown[] };
  CreateMode: { PERSISTENT: number; EPHEMERAL_SEQUENTIAL: number };
  Exception: { NO_NODE: number; NODE_EXISTS: number };
}

const loaded = loadPeer<Nzc>('node-zookeeper-client');
const lib = 'module' in loaded ? loaded.module : undefined;

class NzcSession implements BenchSession<Buffer> {
  constructor(
    private readonly c: NzcClient,
    private readonly nzc: Nzc,
  ) {}

  get(path: string): Promise<Buffer> {
    return fromCallback((done) => this.c.getData(path, done));
  }

  dataOf(result: Buffer): Uint8Array | null {
    return result;
  }

  getWatched(path: string, listener: WatchCallback): Promise<Buffer> {
    return fromCallback((done) =>
      this.c.getData(
        path,
        (event) => {
          const t1 = now();
          listener(t1, eventTypeName(event.getType()));
        },
        done,
      ),
    );
  }

  set(path: string, data: Buffer, version: number): Promise<unknown> {
    return fromCallback((done) => this.c.setData(path, data, version, done));
  }

  create(path: string, data: Buffer, mode: CreateKind): Promise<string> {
    const flags =
      mode === 'persistent' ? this.nzc.CreateMode.PERSISTENT : this.nzc.CreateMode.EPHEMERAL_SEQUENTIAL;
    return fromCallback((done) => this.c.create(path, data, this.nzc.ACL.OPEN_ACL_UNSAFE, flags, done));
  }

  remove(path: string, version: number): Promise<unknown> {
    return fromCallback((done) => this.c.remove(path, version, done));
  }

  children(path: string): Promise<string[]> {
    return fromCallback((done) => this.c.getChildren(path, done));
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.c.once('disconnected', resolve);
      this.c.close();
    });
  }
}

const code = (error: unknown): unknown => (error as { getCode?: () => number } | null)?.getCode?.();

const client: BenchClient<NzcSession> = {
  name: 'node-zookeeper-client',
  version: 'module' in loaded ? loaded.version : 'unknown',
  runtime: `Node ${process.version}`,
  ...('error' in loaded ? { unavailable: `cannot load node-zookeeper-client: ${loaded.error}` } : {}),
  async open(connect) {
    const c = lib!.createClient(connect, { sessionTimeout: SESSION_TIMEOUT_MS });
    await new Promise<void>((resolve) => {
      c.once('connected', resolve);
      c.connect();
    });
    return new NzcSession(c, lib!);
  },
  lockNote: 'node-zookeeper-client has no lock recipe',
  isNodeExists: (error) => code(error) === lib?.Exception.NODE_EXISTS,
  isNoNode: (error) => code(error) === lib?.Exception.NO_NODE,
};

await runBenchmark(client);
