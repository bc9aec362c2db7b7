/**
 * zookeeper-coordination/inspect: the recipe-aware inspector. `inspect(client, path)` reads a
 * subtree and returns the typed, JSON-plain model of every recipe in it (the model `inspect
 * --json` prints); `formatInspection` renders it as the command's table.
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
  QueueRecipe,
  RecipeBase,
  RecipeKind,
  RecipeLayout,
  SemaphoreRecipe,
  ServiceRecipe,
  StaleLeftover,
} from './model.js';
