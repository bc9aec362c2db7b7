/**
 * `zookeeper-coordination/otel`: OpenTelemetry spans and metrics for the client and its recipes,
 * from the library's diagnostics channels. Needs `@opentelemetry/api` (an optional peer
 * dependency of the package); the main entry point never loads it.
 */
export {
  INSTRUMENTATION_NAME,
  ZooKeeperInstrumentation,
  instrumentZooKeeper,
  type ZooKeeperInstrumentationOptions,
} from './instrumentation.js';
