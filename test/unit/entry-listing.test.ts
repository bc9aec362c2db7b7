/**
 * EntryListing (src/recipes/queue/entry-listing.ts) without a server: the directory's Stats are
 * made by hand the way ZooKeeper reports them (cversion = creates + deletes, so the next
 * sequential child's number is (cversion + numChildren) / 2).
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Stat } from '../../src/client/protocol/records.js';
import { EntryListing } from '../../src/recipes/queue/entry-listing.js';

/** `entries`' Stat after `creates` creates and `deletes` deletes. */
function dir(creates: number, deletes: number): Stat {
  return {
    czxid: 1n,
    mzxid: 1n,
    ctime: 0,
    mtime: 0,
    version: 0,
    cversion: creates + deletes,
    aversion: 0,
    ephemeralOwner: 0n,
    dataLength: 0,
    numChildren: creates - deletes,
    pzxid: 1n,
  };
}

/** The name kazoo gives the `sequence`th entry of `priority`. */
const entry = (priority: number, sequence: number) =>
  `entry-${String(priority).padStart(3, '0')}-${String(sequence).padStart(10, '0')}`;

test('a listing sorts its names; choices skip taken names, then stop at the spread or at a new priority; remove drops the head or a name inside', () => {
  const names = [entry(100, 2), entry(100, 0), entry(50, 3), entry(100, 1)];
  const listing = new EntryListing([...names], dir(4, 0), true);
  assert.deepEqual(listing.names, [entry(50, 3), entry(100, 0), entry(100, 1), entry(100, 2)]);
  const locked = new Set([entry(100, 0)]);
  assert.deepEqual(listing.choices(locked), [entry(50, 3)], 'alone: the first available only');
  assert.deepEqual(listing.choices(locked, 4), [entry(50, 3)], "never past the first one's priority");
  const besides = new Set([entry(50, 3), ...locked]);
  assert.deepEqual(listing.choices(besides, 4), [entry(100, 1), entry(100, 2)], 'a taken one skipped');
  assert.deepEqual(listing.choices(besides, 1), [entry(100, 1)]);
  assert.equal(
    listing.pick(besides, 2, () => 0),
    entry(100, 1),
  );
  assert.equal(
    listing.pick(besides, 2, () => 0.99),
    entry(100, 2),
  );
  listing.remove(entry(50, 3));
  assert.equal(listing.head, 1, 'the first name: consumed by moving the head');
  listing.remove(entry(100, 1));
  assert.deepEqual(listing.names.slice(listing.head), [entry(100, 0), entry(100, 2)]);
  listing.remove(entry(100, 0));
  listing.remove(entry(100, 2));
  assert.equal(listing.empty, true);
  assert.equal(listing.pick(new Set(), 3), undefined);
});

test('covers: no create since the listing → yes; creates the watch added, counted by sequence number → yes, and from then on complete for that Stat; one missing → no', () => {
  // Listed after 3 creates and 1 delete: entries 1 and 2 remain; the next one is number 3.
  const listing = new EntryListing([entry(100, 1), entry(100, 2)], dir(3, 1), true);
  assert.equal(listing.covers(dir(3, 2)), true, 'a delete only');
  listing.add(entry(100, 2)); // a late event for a listed entry: neither listed twice nor counted
  assert.equal(listing.names.length, 2);
  listing.remove(entry(100, 1));
  listing.add(entry(100, 1)); // a late event for one consumed from the head: not listed again
  assert.deepEqual(listing.names.slice(listing.head), [entry(100, 2)]);
  assert.equal(listing.covers(dir(4, 2)), false, 'one create (number 3) the watch has not added');
  listing.add(entry(10, 3));
  assert.equal(listing.names[listing.head], entry(10, 3), 'a better priority goes first');
  assert.equal(listing.covers(dir(5, 2)), false, 'two creates, one added');
  listing.add(entry(100, 4));
  assert.equal(listing.covers(dir(5, 2)), true);
  assert.equal(listing.covers(dir(6, 3)), false, 'complete for that Stat now: a sixth create is missing');
  listing.add(entry(100, 5));
  listing.add(entry(100, 0)); // created before the listing (and gone since): listed, never counted
  assert.equal(listing.covers(dir(6, 3)), true);
});

test('covers counts only while followed: after unfollow (a resync, the watch removed) any create since means no', () => {
  const listing = new EntryListing([entry(100, 0)], dir(1, 0), true);
  listing.unfollow();
  listing.add(entry(100, 1));
  assert.equal(listing.covers(dir(2, 0)), false, 'the add may follow a missed one');
  assert.equal(listing.covers(dir(1, 1)), true, 'no create since: still complete');
  const unwatched = new EntryListing([], dir(0, 0), false);
  unwatched.add(entry(100, 0));
  assert.equal(unwatched.covers(dir(1, 0)), false, 'read without the watch in place');
});

test('names without a 10-digit sequence number are listed but never counted', () => {
  const listing = new EntryListing([], dir(0, 0), true);
  listing.add('entry-100-');
  listing.add('odd');
  assert.deepEqual(listing.names, ['entry-100-', 'odd']);
  assert.equal(listing.covers(dir(2, 0)), false);
});

test('covers counts only creates up to the Stat: an entry the watch added that was created after it does not stand in for a missing one; a Stat of entries made again → no', () => {
  // Listed after 3 creates; create number 3 is missed (its event came before the listing was in
  // place), number 4 added by the watch before the check's Stat, which shows 4 creates, is used.
  const listing = new EntryListing([entry(100, 0), entry(100, 1), entry(100, 2)], dir(3, 0), true);
  listing.add(entry(100, 4));
  assert.equal(listing.covers(dir(4, 0)), false, 'number 3 is not listed');
  assert.equal(listing.covers(dir(5, 0)), false, 'still not');
  const later = new EntryListing([entry(100, 0)], dir(1, 0), true);
  later.add(entry(100, 1));
  later.add(entry(100, 2));
  assert.equal(later.covers(dir(2, 0)), true, 'number 1 is listed');
  assert.equal(later.covers(dir(3, 0)), true, 'number 2 still counts for the next Stat');
  assert.equal(later.covers(dir(1, 0)), true, 'an older Stat: complete for it already');
  assert.equal(later.covers(dir(3, 0)), true, 'and not moved back by it');
  assert.equal(later.covers({ ...dir(0, 0), czxid: 2n }), false, 'entries deleted and made again');
});
