/**
 * The benchmark client program for `zookeeper` (the native binding):
 * `node dist/bench/zookeeper-native.js --connect HOSTS --workloads a,b,c --scale F --no-warmup`.
 */
import { runBenchmark } from './harness.js';
import { nativeClient } from './zookeeper-native-adapter.js';

await runBenchmark(nativeClient);
