/**
 * A TCP proxy between a client and a ZooKeeper server that can break the network on demand:
 * drop connections, partition (blackhole), add latency, refuse connections, or point elsewhere;
 * and, since it reads the ZooKeeper frames passing through (FrameTap), break one chosen request:
 * swallow its reply, cut the connection right after its reply, delay it, or freeze a direction.
 * Real sockets on both sides, so the client sees exactly what a real network failure shows it.
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Logger } from 'winston';
import { ProtocolError } from '../client/errors.js';
import { firstServer } from './expire-session.js';
import { FrameFault, type FrameMatch } from './frame-fault.js';
import { FrameTap, type RequestInfo, type TappedFrame } from './frame-tap.js';

/** Where the proxy forwards to: `{ host, port }` or `'host:port'`. */
export type ProxyTarget = { host: string; port: number } | string;

/** Options of `FaultProxy.start`: a logger. */
export interface FaultProxyOptions {
  /** Receives a debug line for every fault switched on or off. Default: none. */
  logger?: Logger;
}

/** One direction of every proxied connection: client → server, or server → client. */
export type ProxyDirection = 'toServer' | 'toClient';

/**
 * What happens to a connection after FaultProxy swallowed a reply on it. The client matches
 * replies to requests in order, so a connection that simply goes on has lost its place:
 * - `'cut'`: close it right away (the client sees a connection loss; the default);
 * - `'blackhole'`: keep it open but forward nothing more either way (a partition: the client
 *   finds out by its own timers);
 * - `'nothing'`: go on forwarding (the client sees the next reply out of order).
 */
export type AfterSwallow = 'cut' | 'blackhole' | 'nothing';

const HOST = '127.0.0.1';
/** Marks the end of a direction's stream (the sender's FIN), queued in order behind its data. */
const END = null;
/** Data, a FIN, or something to do once everything queued before it is delivered. */
type Item = Buffer | typeof END | (() => void);

/** What a frame fault does to the request it takes. */
type FaultAction =
  | { kind: 'swallowReply'; then: AfterSwallow }
  | { kind: 'cutAfterReply' }
  | { kind: 'delay'; ms: number; frame: 'request' | 'reply' };

/** The proxy's switches, shared with every connection. */
interface ProxyState {
  blackholed: boolean;
  delayMs: number;
  frozen: Record<ProxyDirection, boolean>;
  /** Frame faults, in the order they were added. */
  faults: Map<FrameFault, FaultAction>;
}

/**
 * One direction of a connection: items are handed to `deliver` after the current delay (plus a
 * frame's own extra delay), in the order they arrived (an item never overtakes an earlier one, even
 * if the delay shrinks), and not at all while the direction is frozen.
 */
class Direction {
  private queue: { due: number; item: Item }[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly state: ProxyState,
    private readonly flow: ProxyDirection,
    private readonly deliver: (item: Item) => void,
  ) {}

  push(item: Item, extraMs = 0): void {
    const wait = this.state.delayMs + extraMs;
    if (wait === 0 && this.queue.length === 0 && !this.state.frozen[this.flow]) {
      this.deliver(item);
      return;
    }
    const due = Math.max(Date.now() + wait, this.queue.at(-1)?.due ?? 0);
    this.queue.push({ due, item });
    this.schedule();
  }

  clear(): void {
    this.queue = [];
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** Deliver what is due, and arm the timer for the rest (after a thaw, or after each delivery). */
  schedule(): void {
    const head = this.queue[0];
    if (this.timer || !head || this.state.frozen[this.flow]) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        while (this.queue[0] && this.queue[0].due <= Date.now() && !this.state.frozen[this.flow]) {
          this.deliver(this.queue.shift()!.item);
        }
        this.schedule();
      },
      Math.max(0, head.due - Date.now()),
    );
  }
}

/** An accepted client socket and its upstream socket (none while accepted during a blackhole). */
class Pair {
  upstream: Socket | undefined;
  /** A FIN or error got lost in a blackhole: the pair cannot carry on after `heal()`. */
  broken = false;
  private readonly toUpstream: Direction;
  private readonly toClient: Direction;
  private readonly tap: FrameTap;
  /** Faults waiting for the reply to a request they took. */
  private readonly awaitingReply = new Map<RequestInfo, { fault: FrameFault; action: FaultAction }[]>();
  /** Forwards nothing more either way (after a swallowed reply with `then: 'blackhole'`, or while cut). */
  private silenced = false;
  private destroyed = false;
  private openSockets = 1;

  constructor(
    readonly client: Socket,
    private readonly state: ProxyState,
    private readonly onGone: (pair: Pair) => void,
  ) {
    // A partition loses data in flight: anything due while blackholed is discarded, not sent later.
    this.toUpstream = new Direction(
      state,
      'toServer',
      (item) => this.upstream && this.forward(this.upstream, item),
    );
    this.toClient = new Direction(state, 'toClient', (item) => this.forward(this.client, item));
    this.tap = new FrameTap(
      (frame) => this.onRequestFrame(frame),
      (frame) => this.onReplyFrame(frame),
    );
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
    for (const waiting of this.awaitingReply.values()) for (const { fault } of waiting) fault.release();
    this.awaitingReply.clear();
    this.onGone(this);
  }

  /** Deliver what a thawed direction holds. */
  thaw(): void {
    this.toUpstream.schedule();
    this.toClient.schedule();
  }

  /** Close the connection after what the client was already sent (a FIN, not a reset). */
  private cut(): void {
    if (this.destroyed) return;
    this.silence();
    this.upstream?.destroy();
    this.client.end(() => this.destroy());
  }

  private silence(): void {
    this.silenced = true;
    this.toUpstream.clear();
    this.toClient.clear();
  }

  private forward(socket: Socket, item: Item): void {
    if (typeof item === 'function') return item();
    if (socket.destroyed || this.state.blackholed || this.silenced) return;
    if (item === END) socket.end();
    else socket.write(item);
  }

  private onRequestFrame(frame: TappedFrame): void {
    // A partition loses whole frames (the tap still reads them, so it keeps its place in the stream).
    if (this.state.blackholed) return;
    if (frame.kind !== 'request') return this.toUpstream.push(frame.bytes);
    const { request } = frame;
    let extraMs = 0;
    for (const [fault, action] of this.state.faults) {
      if (!fault.take(request)) continue;
      if (action.kind === 'delay' && action.frame === 'request') {
        if (fault.fire({ request })) extraMs = Math.max(extraMs, action.ms);
        continue;
      }
      const waiting = this.awaitingReply.get(request);
      if (waiting) waiting.push({ fault, action });
      else this.awaitingReply.set(request, [{ fault, action }]);
    }
    this.toUpstream.push(frame.bytes, extraMs);
  }

  private onReplyFrame(frame: TappedFrame): void {
    if (this.state.blackholed) return;
    const waiting =
      frame.kind === 'reply' && frame.request ? this.awaitingReply.get(frame.request) : undefined;
    if (frame.kind !== 'reply' || !frame.request || !waiting) return this.toClient.push(frame.bytes);
    this.awaitingReply.delete(frame.request);
    const fired = { request: frame.request, reply: frame.reply };
    let extraMs = 0;
    let swallow: AfterSwallow | undefined;
    let cutAfter = false;
    for (const { fault, action } of waiting) {
      if (!fault.fire(fired)) continue;
      if (action.kind === 'swallowReply') swallow ??= action.then;
      else if (action.kind === 'cutAfterReply') cutAfter = true;
      else extraMs = Math.max(extraMs, action.ms);
    }
    if (swallow === undefined) this.toClient.push(frame.bytes, extraMs);
    if (swallow === 'cut' || cutAfter) this.toClient.push(() => this.cut());
    else if (swallow === 'blackhole') this.toClient.push(() => this.silence());
  }

  private wire(socket: Socket, onward: Direction): void {
    const fromClient = socket === this.client;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      if (this.silenced) return;
      try {
        if (fromClient) this.tap.fromClient(chunk);
        else this.tap.fromServer(chunk);
      } catch (error) {
        // A frame length no ZooKeeper peer sends: the server would close the connection too.
        if (!(error instanceof ProtocolError)) throw error;
        this.destroy();
      }
    });
    socket.on('end', () => {
      if (this.silenced) {
        // The client gave up on a silenced connection; the server's side stays unanswered.
        if (fromClient) this.destroy();
      } else if (this.state.blackholed) this.broken = true;
      else onward.push(END);
    });
    socket.on('error', () => {
      // e.g. ECONNREFUSED upstream or ECONNRESET: the peer sees its connection closed. During a
      // blackhole it must see nothing, so only mark the pair.
      if (this.state.blackholed || (this.silenced && !fromClient)) this.broken = true;
      else this.destroy();
    });
    socket.on('close', () => {
      if (--this.openSockets === 0) this.destroy();
    });
  }
}

function directions(direction: ProxyDirection | undefined): ProxyDirection[] {
  if (direction === undefined) return ['toServer', 'toClient'];
  if (direction !== 'toServer' && direction !== 'toClient')
    throw new TypeError(`direction must be 'toServer' or 'toClient', got ${String(direction)}`);
  return [direction];
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
 *
 * Frame faults pick one request by op, path or count ({@link FrameMatch}) and return a
 * {@link FrameFault} handle: one-shot unless `times` says otherwise, removable, and with a
 * `happened` promise. The proxy reads only the ZooKeeper frames of a connection (the client's
 * first frame must be a ConnectRequest); anything else (four-letter words, TLS) passes unread.
 * Otherwise every byte is forwarded unchanged, though a frame is passed on only once it has fully
 * arrived (and a blackhole loses whole frames).
 */
export class FaultProxy implements AsyncDisposable {
  readonly host = HOST;
  private readonly pairs = new Set<Pair>();
  private readonly state: ProxyState = {
    blackholed: false,
    delayMs: 0,
    frozen: { toServer: false, toClient: false },
    faults: new Map(),
  };
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
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`delay must be a non-negative number of ms, got ${ms}`);
    this.log(`delay ${ms} ms`);
    this.state.delayMs = ms;
  }

  /**
   * Let the chosen request through to the server and drop its reply, so the request takes effect
   * while the client never learns its outcome; then, by default, close the connection (`then`:
   * see {@link AfterSwallow}). `happened` resolves once a reply was swallowed, i.e. the server
   * has answered (its `err` says how). Requests sent before this call are not chosen.
   *
   * @example
   * ```ts
   * const lost = proxy.swallowReply({ op: 'create', path: '/app/lock' });
   * await assert.rejects(client.create('/app/lock', 'x'), errors.ConnectionLossError);
   * const { reply } = await lost.happened; // reply.err === 0: the node exists
   * ```
   */
  swallowReply(match: FrameMatch, options: { then?: AfterSwallow } = {}): FrameFault {
    const then = options.then ?? 'cut';
    if (then !== 'cut' && then !== 'blackhole' && then !== 'nothing')
      throw new TypeError(`then must be 'cut', 'blackhole' or 'nothing', got ${String(then)}`);
    return this.addFault(match, { kind: 'swallowReply', then });
  }

  /**
   * Let the chosen request and its reply through, then close the connection right after that
   * reply (the client has its answer, and then its connection is lost).
   *
   * @example
   * ```ts
   * const cut = proxy.cutAfterReply({ op: 'getData', path: '/config' });
   * const { data } = await client.getData('/config'); // arrives, then the client is SUSPENDED
   * await cut.happened;
   * ```
   */
  cutAfterReply(match: FrameMatch): FrameFault {
    return this.addFault(match, { kind: 'cutAfterReply' });
  }

  /**
   * Hold back the chosen request (`frame: 'request'`, the default) or its reply by `ms` more
   * than `setDelay`. A connection is one ordered stream: the frames behind it in that direction
   * wait behind it (nothing is reordered); the other direction flows on.
   *
   * @example
   * ```ts
   * proxy.delayFrame({ op: 'addWatch' }, 200);           // the watch registers 200 ms late
   * proxy.delayFrame({ op: 'getData', nth: 2 }, 500, 'reply');
   * ```
   */
  delayFrame(match: FrameMatch, ms: number, frame: 'request' | 'reply' = 'request'): FrameFault {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`delay must be a non-negative number of ms, got ${ms}`);
    if (frame !== 'request' && frame !== 'reply')
      throw new TypeError(`frame must be 'request' or 'reply', got ${String(frame)}`);
    return this.addFault(match, { kind: 'delay', ms, frame });
  }

  /**
   * Hold every byte going one way (default: both ways), on every connection, until `thaw()`:
   * nothing is lost, unlike `blackhole()`, and the sockets stay open. Like a process stopped
   * with SIGSTOP, as seen from the network.
   *
   * @example
   * ```ts
   * proxy.freeze('toClient');   // requests reach the server; their replies wait here
   * proxy.thaw('toClient');     // ... and are delivered now, in order
   * ```
   */
  freeze(direction?: ProxyDirection): void {
    for (const flow of directions(direction)) this.state.frozen[flow] = true;
    this.log(`freeze ${direction ?? 'both directions'}`);
  }

  /** Undo `freeze()` for one direction (default: both) and deliver what it held, in order. */
  thaw(direction?: ProxyDirection): void {
    for (const flow of directions(direction)) this.state.frozen[flow] = false;
    this.log(`thaw ${direction ?? 'both directions'}`);
    for (const pair of this.pairs) pair.thaw();
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
    for (const fault of [...this.state.faults.keys()]) fault.remove();
    this.closing ??= new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.drop();
    });
    return this.closing;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  private addFault(match: FrameMatch, action: FaultAction): FrameFault {
    const fault = new FrameFault(match, (removed) => {
      this.state.faults.delete(removed);
      this.log(`${action.kind} fault off after ${removed.fired} firing(s)`);
    });
    this.state.faults.set(fault, action);
    this.log(`${action.kind} fault on`);
    return fault;
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
