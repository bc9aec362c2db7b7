/**
 * A TCP proxy between a client and a ZooKeeper server that can break the network on demand:
 * drop connections, partition (blackhole), add latency, refuse connections, or point elsewhere.
 * Real sockets on both sides, so the client sees exactly what a real network failure shows it.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from 'winston';
import { firstServer } from './expire-session.js';

/** Where the proxy forwards to: `{ host, port }` or `'host:port'`. */
export type ProxyTarget = { host: string; port: number } | string;

export interface FaultProxyOptions {
  /** Receives a debug line for every fault switched on or off. Default: none. */
  logger?: Logger;
}

const HOST = '127.0.0.1';
/** Marks the end of a direction's stream (the sender's FIN), queued in order behind its data. */
const END = null;
type Chunk = Buffer | typeof END;

/** The proxy's switches, shared with every connection. */
interface ProxyState {
  blackholed: boolean;
  delayMs: number;
}

/**
 * One direction of a connection: chunks are handed to `deliver` after the current delay, in the
 * order they arrived (a chunk never overtakes an earlier one, even if the delay shrinks).
 */
class Direction {
  private queue: { due: number; chunk: Chunk }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly state: ProxyState,
    private readonly deliver: (chunk: Chunk) => void,
  ) {}

  push(chunk: Chunk): void {
    if (this.state.delayMs === 0 && this.queue.length === 0) {
      this.deliver(chunk);
      return;
    }
    const due = Math.max(Date.now() + this.state.delayMs, this.queue.at(-1)?.due ?? 0);
    this.queue.push({ due, chunk });
    this.schedule();
  }

  clear(): void {
    this.queue = [];
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(): void {
    const head = this.queue[0];
    if (this.timer || !head) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      while (this.queue[0] && this.queue[0].due <= Date.now()) this.deliver(this.queue.shift()!.chunk);
      this.schedule();
    }, Math.max(0, head.due - Date.now()));
  }
}

/** An accepted client socket and its upstream socket (none while accepted during a blackhole). */
class Pair {
  upstream: Socket | undefined;
  /** A FIN or error got lost in a blackhole: the pair cannot carry on after `heal()`. */
  broken = false;
  private readonly toUpstream: Direction;
  private readonly toClient: Direction;
  private destroyed = false;
  private openSockets = 1;

  constructor(
    readonly client: Socket,
    private readonly state: ProxyState,
    private readonly onGone: (pair: Pair) => void,
  ) {
    // A partition loses data in flight: anything due while blackholed is discarded, not sent later.
    this.toUpstream = new Direction(state, (chunk) => this.upstream && !state.blackholed && forward(this.upstream, chunk));
    this.toClient = new Direction(state, (chunk) => !state.blackholed && forward(this.client, chunk));
    this.wire(client, this.toUpstream);
  }

  connectUpstream(target: { host: string; port: number }): void {
    if (this.destroyed || this.upstream) return;
    this.openSockets++;
    this.upstream = connect({ host: target.host, port: target.port, allowHalfOpen: true });
    this.wire(this.upstream, this.toClient);
  }

  /** Close both sockets now. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.toUpstream.clear();
    this.toClient.clear();
    this.client.destroy();
    this.upstream?.destroy();
    this.onGone(this);
  }

  private wire(socket: Socket, onward: Direction): void {
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (!this.state.blackholed) onward.push(chunk);
    });
    socket.on('end', () => {
      if (this.state.blackholed) this.broken = true;
      else onward.push(END);
    });
    socket.on('error', () => {
      // e.g. ECONNREFUSED upstream or ECONNRESET: the peer sees its connection closed. During a
      // blackhole it must see nothing, so only mark the pair.
      if (this.state.blackholed) this.broken = true;
      else this.destroy();
    });
    socket.on('close', () => {
      if (--this.openSockets === 0) this.destroy();
    });
  }
}

function forward(socket: Socket, chunk: Chunk): void {
  if (socket.destroyed) return;
  if (chunk === END) socket.end();
  else socket.write(chunk);
}

function parseTarget(target: ProxyTarget): { host: string; port: number } {
  if (typeof target !== 'string') return { host: target.host, port: target.port };
  return firstServer(target);
}

/**
 * A fault-injecting TCP proxy on 127.0.0.1 in front of one server. Point a client at
 * `proxy.connectString` and break its network from the test.
 *
 * @example
 * ```ts
 * await using proxy = await FaultProxy.start(server.connectString);
 * const client = new Client(proxy.connectString);
 * proxy.blackhole();    // partition: sockets stay open, nothing gets through
 * proxy.heal();         // traffic flows again (what was sent meanwhile is lost)
 * proxy.drop();         // every current connection is closed
 * proxy.setDelay(200);  // 200 ms more latency each way
 * ```
 */
export class FaultProxy implements AsyncDisposable {
  readonly host = HOST;
  private readonly pairs = new Set<Pair>();
  private readonly state: ProxyState = { blackholed: false, delayMs: 0 };
  private refusing = false;
  private closing: Promise<void> | undefined;

  /** The listening port (kept after `close()`, when the server no longer has an address). */
  readonly port: number;

  private constructor(
    private readonly server: Server,
    private target: { host: string; port: number },
    private readonly logger: Logger | undefined,
  ) {
    this.port = (server.address() as AddressInfo).port;
    server.on('connection', (socket) => this.onConnection(socket));
  }

  /** Listen on a free loopback port and forward every connection to `target`. */
  static async start(target: ProxyTarget, options: FaultProxyOptions = {}): Promise<FaultProxy> {
    const parsed = parseTarget(target);
    // allowHalfOpen: a client's FIN is forwarded, and the server can still answer (e.g. `isro` probes).
    const server = createServer({ allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, HOST, () => {
        server.off('error', reject);
        resolve();
      });
    });
    // The listener alone never keeps a test process alive; live connections do.
    server.unref();
    const proxy = new FaultProxy(server, parsed, options.logger);
    proxy.log(`forwarding to ${parsed.host}:${parsed.port}`);
    return proxy;
  }

  /** `127.0.0.1:<port>`, for a client's connect string. */
  get connectString(): string {
    return `${HOST}:${this.port}`;
  }

  /** Number of live client connections (each with its upstream connection). */
  get connections(): number {
    return this.pairs.size;
  }

  /** Close every current connection, both sides, now. New connections are still accepted. */
  drop(): void {
    this.log(`dropping ${this.pairs.size} connection(s)`);
    for (const pair of [...this.pairs]) pair.destroy();
  }

  /**
   * Partition: keep every socket open but forward nothing, either way; new connections are
   * accepted but not forwarded. Data sent meanwhile is lost.
   */
  blackhole(): void {
    this.log('blackhole');
    this.state.blackholed = true;
  }

  /**
   * End the partition: forward again. What was sent during it stays lost; connections accepted
   * during it get their upstream connection now; connections that closed on one side during it
   * are closed on the other side too.
   */
  heal(): void {
    this.log('heal');
    this.state.blackholed = false;
    for (const pair of [...this.pairs]) {
      if (pair.broken) pair.destroy();
      else pair.connectUpstream(this.target);
    }
  }

  /** Delay every chunk forwarded from now on by `ms` (each way), keeping their order. 0 turns it off. */
  setDelay(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`delay must be a non-negative number of ms, got ${ms}`);
    this.log(`delay ${ms} ms`);
    this.state.delayMs = ms;
  }

  /** Close new connections as soon as they are accepted (like a server that is down). */
  refuse(): void {
    this.log('refusing new connections');
    this.refusing = true;
  }

  /** Undo `refuse()`. */
  accept(): void {
    this.log('accepting new connections');
    this.refusing = false;
  }

  /** Forward connections accepted from now on to `target`; current ones keep their server. */
  retarget(target: ProxyTarget): void {
    this.target = parseTarget(target);
    this.log(`forwarding new connections to ${this.target.host}:${this.target.port}`);
  }

  /** Close every connection and stop listening. Idempotent. */
  close(): Promise<void> {
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.drop();
    });
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private log(message: string): void {
    this.logger?.debug(`FaultProxy ${HOST}:${this.port}: ${message}`);
  }

  private onConnection(socket: Socket): void {
    if (this.refusing || this.closing) {
      socket.on('error', () => {});
      socket.destroy();
      return;
    }
    const pair = new Pair(socket, this.state, (gone) => this.pairs.delete(gone));
    this.pairs.add(pair);
    if (!this.state.blackholed) pair.connectUpstream(this.target);
  }
}
