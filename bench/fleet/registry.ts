/**
 * The scale suite's shared vocabulary (`npm run bench -- --suite scale`, run.ts): a workload is a
 * named piece of coordination work (drain a queue, allocate a partition, hand a lock over, load
 * a tree cache, reconnect) with its cases (N swept), declared once with the clients that run it
 * — ours in Node (ours.ts), kazoo 2.8 in Python (kazoo_fleet.py), Curator 5.4 in Java
 * (curator/CuratorFleet.java), as registered in clients.ts. Each run of one case by one client is
 * one process that prints one JSON line: the `FleetResult`. The runner compares clients by the
 * cost per item of the same case within one run (peer ÷ ours).
 *
 * To add a workload: write a `FleetWorkload` in workloads/<topic>.ts, list it in
 * workloads/index.ts, and implement the same name in each peer program its `peers` names.
 */
import { connect as netConnect } from 'node:net';
import type { ZooKeeperClient } from '../../src/index.js';

/** One size of a workload: its label (`10000`, `8x1000`), N (the chart's x) and its parameters after `--scale`. */
export interface FleetCase {
  label: string;
  /** The swept size: nodes, items queued, members, waiters, watches. */
  n: number;
  params: Record<string, number>;
}

/** What a client program reports for one case. */
export interface FleetResult {
  /** Wall-clock seconds of the measured part (set-up and clean-up excluded). */
  seconds: number;
  /** How many items the measured part processed (`items_per_s` = items / seconds). */
  items: number;
  /**
   * How many items a complete run processes, when a client may stop short (a cache that reports
   * itself initialised with part of the tree): `items < expected` marks the result partial.
   */
  expected?: number;
  /** Workload-specific figures (requests per item, order checks, ...). */
  [metric: string]: number | boolean | string | undefined;
}

/** A run of one case by one client program, as the runner records it. */
export interface FleetRecord {
  kind: 'fleet';
  client: string;
  workload: string;
  case: string;
  pass: number;
  status: 'ok' | 'skip' | 'error';
  note?: string;
  result?: FleetResult;
}

/** What our client program hands a workload: a connect string, a fresh root and sessions on demand. */
export interface FleetContext {
  connect: string;
  /** A fresh path for this run (created; the runner deletes it afterwards). */
  root: string;
  /** Host and port of the server, for `mntr` (requests counted by the server). */
  host: string;
  port: number;
  /** A path the workload's `prepare` filled once for every client and pass (a tree to cache). */
  shared: string;
  /** A started client; closed by the program at the end. */
  session(options?: { sessionTimeout?: number; hosts?: string }): Promise<ZooKeeperClient>;
}

/** The medians of one client × case over the passes (what targets are judged on). */
export interface FleetSummary {
  client: string;
  workload: string;
  case: string;
  passes: number;
  status: 'ok' | 'skip' | 'error';
  note?: string;
  seconds: number | null;
  items_per_s: number | null;
  /** Median cost per item, µs (seconds ÷ items): comparable across N and across partial runs. */
  us_per_item: number | null;
  /** Some pass processed fewer items than expected (see `FleetResult.expected`). */
  partial: boolean;
  /** Medians of the numeric workload metrics. */
  metrics: Record<string, number>;
  /** Boolean metrics: true only when true in every pass. */
  flags: Record<string, boolean>;
  /**
   * A peer's ratios to ours, each taken within one pass (same server, same minute) and then the
   * median over the passes: `us_per_item` and every numeric metric, peer ÷ ours (for a time,
   * above 1 = we are faster). Empty for ours.
   */
  ratios: Record<string, number>;
}

/** Looks up a summary: `undefined` when that client did not run that case. */
export type SummaryLookup = (client: string, workload: string, label: string) => FleetSummary | undefined;

/** A target of the issue, judged on the medians: ok null = not measurable in this run (a skip). */
export interface FleetTarget {
  label: string;
  /** The case whose row of the table shows it met / not met. */
  case: string;
  judge(lookup: SummaryLookup): { ok: boolean | null; detail: string };
}

export interface FleetWorkload {
  /** `snake_case`, the same in every client program. */
  name: string;
  /** One line for the table. */
  title: string;
  /** What `items` counts, for the rate column ("items", "hand-overs", ...). */
  unit: string;
  /** What N counts (the chart's x axis: "nodes", "queued", ...). */
  axis: string;
  /** The peers (client names besides ours) that implement it; the others do not run it. */
  peers: readonly string[];
  /** The cases at `scale` (1 = the sizes), smallest N first (`--quick` runs that one). */
  cases(scale: number): FleetCase[];
  /**
   * Untimed set-up shared by every client and pass of a case (a tree to cache), under `path`
   * (the runner deletes it at the end). Idempotent.
   */
  prepare?(zk: ZooKeeperClient, path: string, params: Record<string, number>): Promise<void>;
  /** Our implementation of one case. */
  ours(context: FleetContext, params: Record<string, number>): Promise<FleetResult>;
  targets?: FleetTarget[];
}

/** The client program names (the `client` field). Peers register theirs in clients.ts. */
export const OURS = 'zookeeper-coordination';
export const KAZOO = 'kazoo';
export const CURATOR = 'curator';

/** `count` × `scale`, rounded, at least `min`. */
export function scaledCount(count: number, scale: number, min = 1): number {
  return Math.max(min, Math.round(count * scale));
}

/** The server's `zk_packets_received` (`mntr`): requests received so far, from every session. */
export function packetsReceived(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port }, () => socket.write('mntr'));
    let text = '';
    socket.setEncoding('ascii');
    socket.setTimeout(10_000, () => socket.destroy(new Error('mntr: no answer within 10 s')));
    socket.on('data', (chunk: string) => (text += chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const match = /zk_packets_received\s+(\d+)/.exec(text);
      if (match) resolve(Number(match[1]));
      else reject(new Error(`mntr: no zk_packets_received in ${JSON.stringify(text.slice(0, 200))}`));
    });
  });
}

// ---- targets ----

/** Our seconds for a case, when it ran ok. */
const oursOk = (lookup: SummaryLookup, workload: string, label: string) => {
  const summary = lookup(OURS, workload, label);
  return summary?.status === 'ok' ? summary : undefined;
};

/** Target: peer cost per item ÷ ours (within each pass, median) ≥ `factor` for the case. */
export function fasterThan(workload: string, label: string, peer: string, factor: number): FleetTarget {
  return peerRatioAtLeast(workload, label, peer, 'us_per_item', factor, `≥ ${factor}× ${peer}`);
}

/** Target: our median `metric` ≤ the peer's (ratio peer ÷ ours within each pass ≥ 1). */
export function noWorseThan(workload: string, label: string, peer: string, metric: string): FleetTarget {
  return peerRatioAtLeast(workload, label, peer, metric, 1, `${metric} ≤ ${peer}'s`);
}

function peerRatioAtLeast(
  workload: string,
  label: string,
  peer: string,
  metric: string,
  factor: number,
  what: string,
): FleetTarget {
  return {
    label: `${workload} ${label}: ${what}`,
    case: label,
    judge(lookup) {
      const ours = oursOk(lookup, workload, label);
      const theirs = lookup(peer, workload, label);
      const ratio = theirs?.ratios[metric];
      if (!ours || theirs?.status !== 'ok' || ratio === undefined)
        return { ok: null, detail: `not measured (${theirs?.note ?? ours?.note ?? 'missing'})` };
      return { ok: ratio >= factor, detail: `${peer} ÷ ours ${ratio.toFixed(2)}` };
    },
  };
}

/** Target: our cost per item at `large` ≤ `factor` × that at `small` (cost linear in N). */
export function linearInN(workload: string, small: string, large: string, factor: number): FleetTarget {
  return {
    label: `${workload} ${large}: µs/item ≤ ${factor}× that at ${small} (linear in N)`,
    case: large,
    judge(lookup) {
      const a = oursOk(lookup, workload, small)?.us_per_item;
      const b = oursOk(lookup, workload, large)?.us_per_item;
      if (a == null || b == null) return { ok: null, detail: 'not measured' };
      return { ok: b <= factor * a, detail: `${(b / a).toFixed(2)}×` };
    },
  };
}

/** Target: our rate ≥ `rate` items/s for the case. */
export function rateAtLeast(workload: string, label: string, rate: number, unit = 'items'): FleetTarget {
  return {
    label: `${workload} ${label}: ≥ ${rate.toLocaleString('en-US')} ${unit}/s`,
    case: label,
    judge(lookup) {
      const ours = oursOk(lookup, workload, label);
      if (!ours || ours.items_per_s === null) return { ok: null, detail: 'not measured' };
      return { ok: ours.items_per_s >= rate, detail: `${Math.round(ours.items_per_s)} ${unit}/s` };
    },
  };
}

/** Target: our median of `metric` ≤ `max` for the case. */
export function metricAtMost(workload: string, label: string, metric: string, max: number): FleetTarget {
  return {
    label: `${workload} ${label}: ${metric} ≤ ${max}`,
    case: label,
    judge(lookup) {
      const value = oursOk(lookup, workload, label)?.metrics[metric];
      if (value === undefined) return { ok: null, detail: 'not measured' };
      return { ok: value <= max, detail: String(Math.round(value * 1000) / 1000) };
    },
  };
}

/** Target: our boolean `flag` held in every pass. */
export function flagHolds(workload: string, label: string, flag: string): FleetTarget {
  return {
    label: `${workload} ${label}: ${flag}`,
    case: label,
    judge(lookup) {
      const value = oursOk(lookup, workload, label)?.flags[flag];
      if (value === undefined) return { ok: null, detail: 'not measured' };
      return { ok: value, detail: String(value) };
    },
  };
}
