/**
 * The client programs of the scale suite. Each runs one case per process: it gets one
 * argument, the JSON `CaseRequest`, and prints one JSON line on stdout — the `FleetResult`, or
 * `{"skip": "why"}` for a workload it does not implement. Add a peer here.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { compileCuratorProgram, curatorClasspath } from '../../test/support/curator.js';
import { CURATOR, KAZOO, OURS } from './registry.js';

export interface CaseRequest {
  connect: string;
  host: string;
  port: number;
  /** A fresh, existing path for this run. */
  root: string;
  /** The path the workload's `prepare` filled for every client (a tree to cache), else ''. */
  shared: string;
  workload: string;
  case: string;
  params: Record<string, number>;
}

export interface FleetClientProgram {
  /** The `client` field of the records. */
  name: string;
  /** Short label for the table and `--clients`. */
  label: string;
  /** Why it cannot run on this machine, or undefined. Asked once per run. */
  unavailable(): string | undefined;
  /** The executable and arguments (the request is appended as the last argument). */
  command(): { file: string; args: string[] };
}

const here = dirname(fileURLToPath(import.meta.url));
/** The repository root (this file runs from dist/bench/fleet/). */
export const packageRoot = join(here, '..', '..', '..');

export const PYTHON = '/usr/bin/python3';
const CURATOR_SOURCE = join(packageRoot, 'bench', 'fleet', 'curator', 'CuratorFleet.java');
const CURATOR_CLASSES = join(here, 'curator-classes');

export const FLEET_CLIENTS: FleetClientProgram[] = [
  {
    name: OURS,
    label: 'ours',
    unavailable: () => undefined,
    command: () => ({ file: process.execPath, args: ['--expose-gc', join(here, 'ours.js')] }),
  },
  {
    name: KAZOO,
    label: 'kazoo',
    unavailable() {
      if (!existsSync(PYTHON)) return `${PYTHON} not found`;
      const probe = spawnSync(PYTHON, ['-c', 'import kazoo.client'], { encoding: 'utf8', timeout: 20_000 });
      return probe.status === 0
        ? undefined
        : `kazoo does not import (apt install python3-kazoo): ${probe.stderr.trim().split('\n').at(-1) ?? ''}`;
    },
    command: () => ({ file: PYTHON, args: [join(packageRoot, 'bench', 'fleet', 'kazoo_fleet.py')] }),
  },
  {
    name: CURATOR,
    label: 'curator',
    // Compiled on first use into dist (Debian's jars and a JDK, installed by scripts/setup.sh).
    unavailable: () => compileCuratorProgram([CURATOR_SOURCE], CURATOR_CLASSES),
    command: () => ({
      file: 'java',
      args: ['-cp', curatorClasspath(CURATOR_CLASSES), 'CuratorFleet'],
    }),
  },
];
