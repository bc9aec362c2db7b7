/**
 * A fault FaultProxy applies to chosen requests (or their replies): which requests it matches,
 * how often it fires, and the handle a test keeps to await or remove it.
 */
import { opCodeOf, type OpName, type ReplyInfo, type RequestInfo } from './frame-tap.js';

/**
 * Which requests a fault applies to. Every given criterion must hold. Without `op`, only ordinary
 * requests match (xid > 0): pings, auth and setWatches never count unless asked for by `op`.
 */
export interface FrameMatch {
  /** The request's type, by name (`'create'`, `'multi'`, ...) or number. */
  op?: OpName | number;
  /**
   * A path the request names, as the server sees it (with the client's chroot): equal to the
   * string, matched by the RegExp, or accepted by the function. A multi matches when any of its
   * ops does.
   */
  path?: string | RegExp | ((path: string) => boolean);
  /** Skip the first `nth - 1` matching requests (count-based choice). Default 1: the first one. */
  nth?: number;
  /** How many matching requests the fault applies to before it removes itself. Default 1; `Infinity`: until removed. */
  times?: number;
}

/** What a fault fired on: the request, and for faults on a reply, that reply's header. */
export interface FaultedFrame {
  readonly request: RequestInfo;
  readonly reply?: ReplyInfo;
}

function pathMatcher(path: FrameMatch['path']): ((path: string) => boolean) | undefined {
  if (path === undefined) return undefined;
  if (typeof path === 'string') return (p) => p === path;
  if (path instanceof RegExp) return (p) => path.test(p);
  return path;
}

function positiveInteger(value: number | undefined, name: string): number {
  if (value === undefined) return 1;
  if (!(Number.isInteger(value) || value === Infinity) || value < 1) {
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  }
  return value;
}

/**
 * A handle on one fault of a FaultProxy. One-shot by default (`times: 1`); `remove()` (or leaving
 * a `using` block) takes it off before it has fired all its times. A fault on a reply that loses
 * its connection before the reply comes has not fired: it applies to the next matching request.
 */
export class FrameFault implements Disposable {
  /**
   * Resolves with the first frame the fault fired on. Never settles if the fault is removed
   * before it fires.
   */
  readonly happened: Promise<FaultedFrame>;
  private resolveHappened!: (frame: FaultedFrame) => void;
  private readonly op: number | undefined;
  private readonly pathOk: ((path: string) => boolean) | undefined;
  private readonly nth: number;
  private readonly times: number;
  private seen = 0;
  private armed = 0;
  private firedCount = 0;
  private removed = false;

  /** @internal Made by FaultProxy. */
  constructor(
    match: FrameMatch,
    private readonly onRemove: (fault: FrameFault) => void,
  ) {
    if (typeof match.op === 'string') {
      this.op = opCodeOf(match.op);
      if (this.op === undefined) throw new TypeError(`unknown op ${JSON.stringify(match.op)}`);
    } else {
      this.op = match.op;
    }
    this.pathOk = pathMatcher(match.path);
    this.nth = positiveInteger(match.nth, 'nth');
    this.times = positiveInteger(match.times, 'times');
    this.happened = new Promise((resolve) => (this.resolveHappened = resolve));
  }

  /** How many times the fault has fired. */
  get fired(): number {
    return this.firedCount;
  }

  /** False once removed, by `remove()` or after firing `times` times. */
  get active(): boolean {
    return !this.removed;
  }

  /** Take the fault off; a request it already chose is let through unharmed from now on. */
  remove(): void {
    if (this.removed) return;
    this.removed = true;
    this.onRemove(this);
  }

  [Symbol.dispose](): void {
    this.remove();
  }

  /**
   * @internal Whether the fault takes this request: it matches, is the nth or later, and fewer
   * than `times` firings are done or pending. A taken request must be settled by `fire` or `release`.
   */
  take(request: RequestInfo): boolean {
    if (this.removed || !this.matches(request)) return false;
    this.seen++;
    if (this.seen < this.nth || this.firedCount + this.armed >= this.times) return false;
    this.armed++;
    return true;
  }

  /** @internal A request taken earlier: the fault now fires on it (false if removed meanwhile). */
  fire(frame: FaultedFrame): boolean {
    if (this.removed) return false;
    this.armed--;
    this.firedCount++;
    if (this.firedCount === 1) this.resolveHappened(frame);
    if (this.firedCount >= this.times) this.remove();
    return true;
  }

  /** @internal A request taken earlier whose connection ended first: the fault is re-armed. */
  release(): void {
    this.armed--;
  }

  private matches(request: RequestInfo): boolean {
    if (this.op === undefined ? request.xid <= 0 : request.type !== this.op) return false;
    return this.pathOk === undefined || request.paths.some(this.pathOk);
  }
}
