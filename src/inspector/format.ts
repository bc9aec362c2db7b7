/**
 * The human rendering of an `Inspection`: one block per recipe, a heading with its kind, path,
 * layout and kind's own figures, then a table of holders and waiters, then its stale leftovers.
 */
import type { InspectedRecipe, Inspection, Participant } from './model.js';

function figures(recipe: InspectedRecipe): string {
  switch (recipe.kind) {
    case 'semaphore':
      return `leases ${recipe.holders.length}/${recipe.maxLeases ?? '?'}`;
    case 'queue':
    case 'locking-queue':
      return `depth ${recipe.depth}, taken ${recipe.taken}`;
    case 'party':
    case 'barrier':
    case 'double-barrier':
    case 'group':
      return `${recipe.members.length} member(s)`;
    case 'partitioner':
      return `${recipe.members.length} member(s), ${recipe.items.length} item(s)`;
    case 'counter':
      return `value ${recipe.value ?? '?'}`;
    case 'lease':
      return recipe.expires === null ? 'not held' : `expires ${recipe.expires}`;
    case 'service':
      return `${recipe.instances.length} instance(s): ${recipe.instances.join(', ')}`;
    case 'ttl-node':
      return `touched ${recipe.touched} by ${recipe.touchedBy ?? '?'}, data ${recipe.data ?? '-'}`;
    case 'persistent-node':
      return `name ${recipe.name}`;
    default:
      return recipe.holders.length === 0 ? 'free' : `${recipe.waiters.length} waiting`;
  }
}

/** What a holder is called in each kind. */
function holderRole(recipe: InspectedRecipe): string {
  switch (recipe.kind) {
    case 'election':
    case 'leader-latch':
      return 'leader';
    case 'semaphore':
      return 'lease';
    case 'queue':
    case 'locking-queue':
      return 'taken';
    case 'party':
    case 'partitioner':
    case 'barrier':
    case 'double-barrier':
    case 'group':
      return 'member';
    case 'service':
      return 'instance';
    case 'persistent-node':
      return 'owner';
    default:
      return 'holder';
  }
}

function waiterRole(recipe: InspectedRecipe, index: number): string {
  const role =
    recipe.kind === 'election' || recipe.kind === 'leader-latch'
      ? 'candidate'
      : recipe.kind.endsWith('queue')
        ? 'item'
        : 'waiter';
  return `${role} ${index + 1}`;
}

/** A table row; `withData` adds the payload column (a group's or persistent node's). */
function row(role: string, who: Participant, stale: ReadonlySet<string>, withData: boolean): string[] {
  const mode = who.mode ? ` (${who.mode})` : '';
  return [
    role + mode,
    who.identifier ?? '-',
    ...(withData ? [who.data ?? '-'] : []),
    who.sessionId ?? 'persistent',
    who.client ?? '-',
    who.since,
    who.node + (stale.has(who.node) ? '  STALE' : ''),
  ];
}

function table(rows: readonly string[][]): string[] {
  const widths = rows[0]!.map((_, column) => Math.max(...rows.map((cells) => cells[column]!.length)));
  return rows.map(
    (cells) =>
      '  ' +
      cells
        .map((cell, i) => cell.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
  );
}

/** One recipe's block of lines. */
function block(recipe: InspectedRecipe): string[] {
  const lines = [`${recipe.kind}  ${recipe.path}  [${recipe.layout}]  ${figures(recipe)}`];
  // A participant's node sits in the recipe's directory or a sub-directory: match stale ones by name.
  const staleNames = new Set(recipe.stale.map(({ path }) => path.slice(path.lastIndexOf('/') + 1)));
  const withData = [...recipe.holders, ...recipe.waiters].some((who) => who.data !== undefined);
  const rows: string[][] = [];
  for (const holder of recipe.holders) rows.push(row(holderRole(recipe), holder, staleNames, withData));
  recipe.waiters.forEach((waiter, i) => rows.push(row(waiterRole(recipe, i), waiter, staleNames, withData)));
  if (recipe.kind === 'partitioner')
    for (const { item, holder, waiters } of recipe.items) {
      if (holder) rows.push(row(`item ${item}`, holder, staleNames, withData));
      else rows.push([`item ${item}`, '-', '-', '-', '-', '(unassigned)']);
      waiters.forEach((waiter, i) =>
        rows.push(row(`  ${item} waiter ${i + 1}`, waiter, staleNames, withData)),
      );
    }
  const heading = ['role', 'identifier', ...(withData ? ['data'] : []), 'session', 'client', 'since', 'node'];
  if (rows.length > 0) lines.push(...table([heading, ...rows]));
  for (const leftover of recipe.stale) lines.push(`  STALE ${leftover.path}: ${leftover.reason}`);
  return lines;
}

/**
 * Render an inspection as text for a terminal: one block per recipe with its holders and waiters
 * (identifier, session, client, since, node) and its stale leftovers marked `STALE`.
 *
 * @example
 * ```ts
 * process.stdout.write(formatInspection(await inspect(zk, '/app')));
 * ```
 */
export function formatInspection(inspection: Inspection): string {
  const header = `${inspection.path} at ${inspection.at}: ${inspection.recipes.length} recipe(s) in ${inspection.nodes} node(s)`;
  const notes: string[] = [];
  if (inspection.truncated) notes.push('  (stopped at the node limit: some recipes are missing)');
  if (!inspection.sessionsKnown)
    notes.push(
      '  (not every server answered `cons` (down, or not whitelisted): no client addresses, dead sessions not flagged)',
    );
  const blocks = inspection.recipes.map((recipe) => block(recipe).join('\n'));
  return [[header, ...notes].join('\n'), ...blocks].join('\n\n') + '\n';
}
