/**
 * The bench adapter for `zookeeper` (the native binding over the C client), through its promise
 * API; `zookeeper-native.ts` is the program, `bounds.ts` uses its connect cycle. When the addon
 * is not built, `unavailable` says why (the runner tries `npm rebuild zookeeper` first). The
 * library has no lock recipe (see `--emulated-lock`).
 */
import {
  eventTypeName,
  loadPeer,
  now,
  SESSION_TIMEOUT_MS,
  type BenchClient,
  type BenchSession,
  type CreateKind,
  type WatchCallback,
} from './harness.js';

/** `[stat, data]`, as the promise API resolves a getData. */
type GetResult = [unknown, Buffer | null];

/** The part of zookeeper 7.x (promise flavour) the bench uses. */
interface NativeClient {
  connect(options: object, callback: (error: unknown) => void): void;
  close(): void;
  once(event: 'close', listener: () => void): void;
  get(path: string, watch: boolean): Promise<GetResult>;
  w_get(path: string, watcher: (type: number, state: number, path: string) => void): Promise<GetResult>;
  set(path: string, data: Buffer, version: number): Promise<unknown>;
  create(path: string, data: Buffer, flags: number): Promise<string>;
  delete_(path: string, version: number): Promise<unknown>;
  get_children(path: string, watch: boolean): Promise<string[]>;
}

interface NativeModule {
  new (config: {
    connect: string;
    timeout: number;
    debug_level: number;
    host_order_deterministic: boolean;
  }): NativeClient;
  constants: {
    ZOO_PERSISTENT: number;
    ZOO_EPHEMERAL_SEQUENTIAL: number;
    ZOO_LOG_LEVEL_ERROR: number;
    ZNODEEXISTS: number;
    ZNONODE: number;
  };
}

const loaded = loadPeer<NativeModule>('zookeeper');
const lib = 'module' in loaded ? loaded.module : undefined;

class NativeSession implements BenchSession<GetResult> {
  constructor(private readonly zk: NativeClient) {}

  get(path: string): Promise<GetResult> {
    return this.zk.get(path, false);
  }

  dataOf(result: GetResult): Uint8Array | null {
    return result[1];
  }

  getWatched(path: string, listener: WatchCallback): Promise<GetResult> {
    return this.zk.w_get(path, (type) => {
      const t1 = now();
      listener(t1, eventTypeName(type));
    });
  }

  set(path: string, data: Buffer, version: number): Promise<unknown> {
    return this.zk.set(path, data, version);
  }

  create(path: string, data: Buffer, mode: CreateKind): Promise<string> {
    return this.zk.create(
      path,
      data,
      mode === 'persistent' ? lib!.constants.ZOO_PERSISTENT : lib!.constants.ZOO_EPHEMERAL_SEQUENTIAL,
    );
  }

  remove(path: string, version: number): Promise<unknown> {
    return this.zk.delete_(path, version);
  }

  children(path: string): Promise<string[]> {
    return this.zk.get_children(path, false);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      this.zk.once('close', resolve); // emitted from inside close()
      this.zk.close();
    });
  }
}

/** The promise API rejects with `Error("<rc> <message>")`. */
const hasCode = (error: unknown, rc: number | undefined): boolean =>
  error instanceof Error && error.message.startsWith(`${rc} `);

export const nativeClient: BenchClient<NativeSession> = {
  name: 'zookeeper',
  version: 'module' in loaded ? loaded.version : 'unknown',
  runtime: `Node ${process.version} (native addon)`,
  ...('error' in loaded
    ? {
        unavailable: `the native zookeeper addon cannot be loaded (try npm rebuild zookeeper): ${loaded.error}`,
      }
    : {}),
  async open(connect) {
    const zk = new lib!({
      connect,
      timeout: SESSION_TIMEOUT_MS,
      debug_level: lib!.constants.ZOO_LOG_LEVEL_ERROR,
      host_order_deterministic: false,
    });
    await new Promise<void>((resolve, reject) =>
      zk.connect({}, (error) => (error ? reject(error) : resolve())),
    );
    return new NativeSession(zk);
  },
  lockNote: 'zookeeper (native) has no lock recipe',
  isNodeExists: (error) => hasCode(error, lib?.constants.ZNODEEXISTS),
  isNoNode: (error) => hasCode(error, lib?.constants.ZNONODE),
};
