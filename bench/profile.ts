/**
 * CPU profile of one client program on one workload, summarised as the top frames by self time:
 *
 *   node dist/bench/profile.js [--client ours|nzc|native] [--workload pipelined_get] [--scale F]
 *                              [--connect HOSTS] [--top 25] [--out DIR] [--no-warmup]
 *
 * Runs the program under `node --cpu-prof` (the whole process: setup, warm-up and the workload;
 * the timed workload dominates) against `--connect` or a test-kit server it starts, prints the
 * program's records, then the top frames (self ms, %, function, file:line). The .cpuprofile is
 * kept in `--out` (default: a temp directory) for Chrome DevTools / speedscope.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ZooKeeperServer } from '../src/testing/index.js';
import { parseFlags, parseScale, parseWorkloads, UsageError } from './harness.js';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

const here = dirname(fileURLToPath(import.meta.url));
const packageRoot = join(here, '..', '..');
const SCRIPTS: Record<string, string> = {
  ours: 'ours.js',
  nzc: 'node-zookeeper-client.js',
  native: 'zookeeper-native.js',
};

/** Self time per frame (function + location), descending. */
export function topFrames(
  profile: CpuProfile,
  top: number,
): { selfMs: number; percent: number; frame: string }[] {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map<number, number>();
  profile.samples.forEach((id, index) =>
    self.set(id, (self.get(id) ?? 0) + (profile.timeDeltas[index] ?? 0)),
  );
  const byFrame = new Map<string, number>();
  let total = 0;
  for (const [id, micros] of self) {
    const { functionName, url, lineNumber } = byId.get(id)!.callFrame;
    const file = url.startsWith('file://') ? relative(packageRoot, fileURLToPath(url)) : url;
    const frame = `${functionName || '(anonymous)'}${file ? ` ${file}:${lineNumber + 1}` : ''}`;
    byFrame.set(frame, (byFrame.get(frame) ?? 0) + micros);
    total += micros;
  }
  return [...byFrame]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([frame, micros]) => ({ selfMs: micros / 1000, percent: (100 * micros) / total, frame }));
}

async function main(): Promise<number> {
  const flags = parseFlags(
    process.argv.slice(2),
    ['client', 'workload', 'scale', 'connect', 'top', 'out'],
    ['no-warmup'],
  );
  const client = String(flags.get('client') ?? 'ours');
  const script = SCRIPTS[client];
  if (script === undefined)
    throw new UsageError(`--client must be one of ${Object.keys(SCRIPTS).join(', ')}`);
  const workloads = parseWorkloads(flags.get('workload') ?? 'pipelined_get');
  const scale = parseScale(flags.get('scale'));
  const top = Number(flags.get('top') ?? 25);
  const out =
    typeof flags.get('out') === 'string'
      ? String(flags.get('out'))
      : mkdtempSync(join(tmpdir(), 'zkbench-prof-'));

  let server: ZooKeeperServer | undefined;
  let connect = flags.get('connect');
  if (typeof connect !== 'string') {
    server = await ZooKeeperServer.start({ config: { maxClientCnxns: '0' } });
    connect = server.connectString;
  }
  try {
    const run = spawnSync(
      process.execPath,
      [
        '--cpu-prof',
        '--cpu-prof-dir',
        out,
        join(here, script),
        '--connect',
        connect,
        '--workloads',
        workloads.join(','),
        '--scale',
        String(scale),
        ...(flags.has('no-warmup') ? ['--no-warmup'] : []),
      ],
      { cwd: packageRoot, stdio: ['ignore', 'inherit', 'inherit'] },
    );
    if (run.status !== 0) process.stderr.write(`profile: the program exited ${run.status ?? run.signal}\n`);
  } finally {
    await server?.close();
  }
  const file = readdirSync(out)
    .filter((name) => name.endsWith('.cpuprofile'))
    .sort()
    .at(-1);
  if (file === undefined) throw new Error(`no .cpuprofile in ${out}`);
  const profile = JSON.parse(readFileSync(join(out, file), 'utf8')) as CpuProfile;
  process.stdout.write(`\ntop ${top} frames by self time (${join(out, file)}):\n`);
  for (const { selfMs, percent, frame } of topFrames(profile, top)) {
    process.stdout.write(
      `${selfMs.toFixed(1).padStart(9)} ms ${percent.toFixed(1).padStart(5)} %  ${frame}\n`,
    );
  }
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`profile: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
