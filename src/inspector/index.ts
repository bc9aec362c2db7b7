/**
 * zookeeper-coordination/inspect: the recipe-aware inspector. `inspect(client, path)` reads a
 * subtree and returns the typed, JSON-plain model of every recipe in it (the model `inspect
 * --json` prints); `formatInspection` renders it as the command's table. `serveInspector` serves
 * the live web view of it, `watchInspections` is the live inspection the view runs on.
 */
export { inspect } from './inspect.js';
export type { InspectOptions } from './inspect.js';
export { formatInspection } from './format.js';
export type {
  CounterRecipe,
  GroupRecipe,
  InspectedRecipe,
  Inspection,
  LeaseRecipe,
  LockRecipe,
  Participant,
  PartitionItem,
  PartitionerRecipe,
  PersistentNodeRecipe,
  QueueRecipe,
  RecipeBase,
  RecipeKind,
  RecipeLayout,
  SemaphoreRecipe,
  ServiceRecipe,
  StaleLeftover,
  TtlNodeRecipe,
} from './model.js';
export { serveInspector } from './serve.js';
export type { InspectorServer, ServeInspectorOptions } from './serve.js';
export { watchInspections } from './watch-inspections.js';
export type { InspectionUpdate, WatchInspectionsOptions } from './watch-inspections.js';
export type { HolderChange, InspectorView } from './view.js';
