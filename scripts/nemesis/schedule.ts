/**
 * The nemesis's fault schedule: a pure function of the seed, so a failing seed replays the same
 * faults (the interleavings around them vary with the machine). Two tracks run side by side:
 * ensemble faults one at a time (so a quorum comes back after each), and client faults one at
 * a time. Both are bounded in count by the run's length.
 */
import { prng } from '../../test/support/random.js';
import type { FaultKind } from './history.js';

export interface PlannedFault {
  /** Start, ms after the run began. */
  at: number;
  kind: FaultKind;
  /** Member id for `kill-member`; client index for client faults; unused for leader faults (the leader is found when it starts). */
  target: number;
  /** How long the member stays down or frozen, the client blackholed, or a swallow waits for its request, ms. */
  duration: number;
  /** `swallow-reply`: the request type whose reply is swallowed, and what the proxy does next. */
  op?: SwallowedOp;
  /**
   * After the swallowed reply the connection is closed (`cut`) or goes silent until the client
   * gives up on it (`blackhole`). Never `nothing`: a stream that loses one frame and carries on
   * is not something TCP does.
   */
  then?: 'cut' | 'blackhole';
}

/**
 * Requests the recipes send that change state: creates (lock node, entry, item lock), deletes,
 * multis (guarded writes, consume, our counter), and kazoo's counter update (setData).
 */
export const SWALLOWED_OPS = {
  ours: ['create', 'delete', 'multi'],
  kazoo: ['create', 'delete', 'multi', 'setData'],
} as const;
export type SwallowedOp = (typeof SWALLOWED_OPS.kazoo)[number];

export interface ScheduleOptions {
  seed: number;
  seconds: number;
  /** The worker processes, by kind (client faults pick one). */
  clients: readonly ('ours' | 'kazoo')[];
  members: number;
  /** The workers' session timeout, ms: blackholes outlast it. */
  sessionTimeout: number;
  /** syncLimit × tickTime, ms: leader freezes outlast it. */
  syncLimitMs: number;
}

/** A member that was killed takes about this long to rejoin (JVM start + sync), ms. */
const REJOIN_ESTIMATE = 6_000;

export function planFaults(options: ScheduleOptions): PlannedFault[] {
  const random = prng(options.seed);
  const between = (low: number, high: number): number => Math.floor(low + random() * (high - low));
  const pick = <T>(values: readonly T[]): T => values[Math.floor(random() * values.length)]!;
  const end = options.seconds * 1000;
  const faults: PlannedFault[] = [];

  for (let at = between(2_000, 5_000); at < end;) {
    const kind = pick<FaultKind>(['kill-member', 'kill-leader', 'freeze-leader']);
    if (kind === 'freeze-leader') {
      const duration = options.syncLimitMs + between(1_000, 4_000);
      faults.push({ at, kind, target: 0, duration });
      at += duration + between(3_000, 8_000);
    } else {
      const duration = between(1_000, 6_000);
      faults.push({
        at,
        kind,
        target: kind === 'kill-member' ? between(1, options.members + 1) : 0,
        duration,
      });
      at += duration + REJOIN_ESTIMATE + between(2_000, 6_000);
    }
  }

  const clientKinds: FaultKind[] = ['blackhole-client', 'swallow-reply', 'swallow-reply'];
  for (let at = between(1_000, 4_000); at < end;) {
    const kind = pick(clientKinds);
    const target = between(0, options.clients.length);
    if (kind === 'blackhole-client') {
      const duration = options.sessionTimeout + between(500, 3_000);
      faults.push({ at, kind, target, duration });
      at += duration + between(2_000, 6_000);
    } else {
      const duration = between(2_000, 6_000);
      faults.push({
        at,
        kind,
        target,
        duration,
        op: pick(SWALLOWED_OPS[options.clients[target]!]),
        then: pick(['cut', 'blackhole'] as const),
      });
      at += duration + between(1_000, 4_000);
    }
  }
  return faults.sort((a, b) => a.at - b.at);
}
