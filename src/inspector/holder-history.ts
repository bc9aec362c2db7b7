/**
 * The web view's memory of who held what: for each election and lock the inspector finds, the
 * recent changes of its first holder (the leader, the lock holder), with the time the change was
 * seen. One inspection is a snapshot; the history is what makes a failover readable ("worker-1,
 * then nobody, then worker-3 four seconds later"). Bounded per recipe; a recipe that disappears
 * from the inspection takes its history with it.
 */
import type { Inspection, RecipeKind } from './model.js';
import type { HolderChange } from './view.js';

/** The kinds whose first holder is worth a history: one leader or one (write) holder at a time. */
const TRACKED: ReadonlySet<RecipeKind> = new Set(['election', 'leader-latch', 'lock', 'read-write-lock']);

export class HolderHistory {
  private readonly changes = new Map<string, HolderChange[]>();

  /** @param limit how many changes to keep per recipe (the oldest go first). */
  constructor(private readonly limit = 20) {}

  /** Record what `inspection` shows: a change is appended when a recipe's first holder is another node. */
  observe(inspection: Inspection): void {
    const present = new Set<string>();
    for (const recipe of inspection.recipes) {
      if (!TRACKED.has(recipe.kind)) continue;
      present.add(recipe.path);
      const holder = recipe.holders[0];
      const changes = this.changes.get(recipe.path) ?? [];
      const last = changes.at(-1);
      const node = holder?.node ?? null;
      // A recipe first seen vacant starts no history: there was no holder to lose.
      if ((last === undefined && node === null) || (last !== undefined && last.node === node)) continue;
      changes.push({
        identifier: holder?.identifier ?? null,
        sessionId: holder?.sessionId ?? null,
        node,
        at: inspection.at,
      });
      if (changes.length > this.limit) changes.splice(0, changes.length - this.limit);
      this.changes.set(recipe.path, changes);
    }
    for (const path of this.changes.keys()) if (!present.has(path)) this.changes.delete(path);
  }

  /** The changes per recipe path, oldest first, as the view sends them. */
  toJSON(): Record<string, HolderChange[]> {
    return Object.fromEntries([...this.changes].map(([path, changes]) => [path, [...changes]]));
  }
}
