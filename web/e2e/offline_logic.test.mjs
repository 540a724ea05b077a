// The rules the device's copy answers by when the server can't be reached, checked on their
// own: the same search as the server (its fields, lower-cased substrings), filters, orders
// and pages; and the edits sent later, which go on a newer version when they touch other
// fields and clash when both sides changed the same one.

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { changedFields, fieldsOf, matching, patch, query, rebase, searchText } from '../src/local/offline.js';

const hid = 'h1';
const item = (id, fields) => ({
  id,
  household_id: hid,
  name: id,
  description: null,
  location_id: null,
  location_path: [],
  quantity: 1,
  tags: [],
  brand: null,
  model: null,
  serial_number: null,
  barcode: null,
  purchase_date: null,
  purchase_price: null,
  purchased_from: null,
  estimated_value: null,
  warranty_expires: null,
  notes: null,
  custom_fields: {},
  insured: false,
  lifetime_warranty: false,
  sold_to: null,
  sold_date: null,
  sold_price: null,
  sold_notes: null,
  thumbnail_url: null,
  version: 1,
  created_at: '2026-01-01T10:00:00Z',
  updated_at: '2026-01-01T10:00:00Z',
  ...fields,
});

const entry = (i) => ({
  item: i,
  text: searchText(i),
  created: Date.parse(i.created_at),
  updated: Date.parse(i.updated_at),
  deleted: i.deleted_at ? Date.parse(i.deleted_at) : 0,
  name: i.name.toLowerCase(),
});

const locations = new Map([
  ['house', { id: 'house', parent_id: null, name: 'House' }],
  ['garage', { id: 'garage', parent_id: 'house', name: 'Garage' }],
  ['shelf', { id: 'shelf', parent_id: 'garage', name: 'Shelf' }],
  ['attic', { id: 'attic', parent_id: null, name: 'Attic' }],
]);

const all = [
  item('Cordless drill', { brand: 'Bosch', tags: ['Tools'], location_id: 'shelf', created_at: '2026-01-03T10:00:00.5Z' }),
  item('Claw hammer', { notes: 'Framing hammer', tags: ['tools'], location_id: 'garage', created_at: '2026-01-03T10:00:00Z' }),
  item('Camping stove', { location_id: 'attic', created_at: '2026-01-02T10:00:00Z', updated_at: '2026-02-01T10:00:00Z' }),
  item('Old lamp', { sold_to: 'Neighbour Bob', created_at: '2026-01-01T10:00:00Z' }),
  item('Broken kettle', { deleted_at: '2026-03-01T10:00:00Z' }),
].map(entry);

const names = (page) => page.items.map((i) => i.name);

describe('the offline copy answers as the server would', () => {
  test('search text holds the same fields, lower-cased, as the server', () => {
    // The same example as the server's own test (shared/src/edits.rs).
    const drill = item('Drill', { brand: 'Bosch', notes: 'blue case', tags: ['Tools'] });
    assert.equal(searchText(drill), 'drill\nbosch\nblue case\ntools');
    const sold = { ...drill, sold_to: 'Ann Lee', sold_notes: 'Paid Cash' };
    assert.equal(searchText(sold), 'drill\nbosch\nblue case\nann lee\npaid cash\ntools');
  });

  test('a search finds substrings in any field, whatever their case', () => {
    assert.deepEqual(names(query(all, locations, { q: '  BOSCH ' }, false)), ['Cordless drill']);
    assert.deepEqual(names(query(all, locations, { q: 'framing' }, false)), ['Claw hammer']);
    assert.deepEqual(names(query(all, locations, { q: 'BOB' }, false)), ['Old lamp']);
    assert.deepEqual(names(query(all, locations, { q: 'kettle' }, false)), [], 'trashed items are not listed');
    assert.deepEqual(names(query(all, locations, { q: 'kettle' }, true)), ['Broken kettle']);
  });

  test('a search for an asset id (#000123, #123, 000-123) finds that one item only', () => {
    const numbered = [
      item('Drill', { asset_id: '000-123' }),
      item('Box 1123', { asset_id: '000-007' }),
      item('Ladder', { asset_id: '001-123' }),
    ].map(entry);
    for (const q of ['#000123', '#123', '000-123', ' #000-123 ']) {
      assert.deepEqual(names(query(numbered, locations, { q }, false)), ['Drill'], q);
    }
    assert.deepEqual(names(query(numbered, locations, { q: '1-123' }, false)), ['Ladder']);
    // Digits alone are an ordinary search.
    assert.deepEqual(names(query(numbered, locations, { q: '123' }, false)), ['Box 1123']);
  });

  test('a count of what a search picks is every page of it, live items only', () => {
    assert.equal(matching(all, locations, { q: 'o', limit: 1 }, false).length, 4);
    assert.equal(query(all, locations, { q: 'o', limit: 1 }, false).items.length, 1);
    assert.equal(matching(all, locations, { tag: 'TOOLS', location: 'garage' }, false).length, 2);
  });

  test('a location filter takes everything below it; "none" the unplaced', () => {
    assert.deepEqual(names(query(all, locations, { location: 'house', sort: 'name' }, false)), [
      'Claw hammer',
      'Cordless drill',
    ]);
    assert.deepEqual(names(query(all, locations, { location: 'none' }, false)), ['Old lamp']);
  });

  test('a tag filter ignores case', () => {
    assert.deepEqual(names(query(all, locations, { tag: 'TOOLS', sort: 'name' }, false)), [
      'Claw hammer',
      'Cordless drill',
    ]);
  });

  test('orders compare times, not their text', () => {
    // "…00.5Z" is later than "…00Z", though it sorts first as text.
    assert.deepEqual(names(query(all, locations, { sort: 'newest' }, false)), [
      'Cordless drill',
      'Claw hammer',
      'Camping stove',
      'Old lamp',
    ]);
    assert.deepEqual(names(query(all, locations, { sort: 'oldest' }, false))[0], 'Old lamp');
    assert.deepEqual(names(query(all, locations, { sort: 'updated' }, false))[0], 'Camping stove');
  });

  test('pages go on from their cursor to the end', () => {
    const first = query(all, locations, { sort: 'name', limit: 3 }, false);
    assert.deepEqual(names(first), ['Camping stove', 'Claw hammer', 'Cordless drill']);
    const second = query(all, locations, { sort: 'name', limit: 3, cursor: first.next_cursor }, false);
    assert.deepEqual(names(second), ['Old lamp']);
    assert.equal(second.next_cursor, null);
  });
});

describe('edits sent later', () => {
  test('a new asset id is sent; one left out is kept, never cleared', () => {
    const before = fieldsOf(item('Drill', { asset_id: '000-003' }));
    assert.deepEqual(patch(before, { ...before, asset_id: '004-242' }), { asset_id: '004-242' });
    assert.deepEqual(patch(before, { ...before, asset_id: null }), {});
  });

  const base = fieldsOf(item('Drill', { quantity: 1, notes: 'blue case' }));

  test('a PATCH carries what changed, and null for what was emptied', () => {
    assert.deepEqual(patch(base, { ...base, notes: null, quantity: 3 }), { quantity: 3, notes: null });
    assert.deepEqual(patch(base, { ...base }), {});
    assert.deepEqual(changedFields(base, { ...base, tags: ['a'] }), ['tags']);
    assert.deepEqual(patch(base, { ...base, insured: true, sold_to: 'Ann' }), { insured: true, sold_to: 'Ann' });
  });

  test('a record kept from before the sale fields existed is neither insured nor sold', () => {
    const old = item('Drill', {});
    for (const f of ['insured', 'lifetime_warranty', 'sold_to', 'sold_date', 'sold_price', 'sold_notes']) delete old[f];
    const fields = fieldsOf(old);
    assert.equal(fields.insured, false);
    assert.equal(fields.lifetime_warranty, false);
    assert.equal(fields.sold_to, null);
    assert.deepEqual(changedFields(fields, fieldsOf(item('Drill', {}))), []);
  });

  test('edits of different fields merge', () => {
    const mine = { ...base, quantity: 2 };
    const theirs = { ...base, notes: 'in the garage' };
    assert.deepEqual(rebase(base, mine, theirs), { ...base, quantity: 2, notes: 'in the garage' });
  });

  test('the same field changed to different values clashes', () => {
    const mine = { ...base, name: 'Cordless drill' };
    const theirs = { ...base, name: 'Hammer drill' };
    assert.equal(rebase(base, mine, theirs), null);
  });

  test('an edit the server already has (a reply lost) is no clash and changes nothing', () => {
    const mine = { ...base, name: 'Cordless drill', custom_fields: { Voltage: '18 V' } };
    const merged = rebase(base, mine, { ...mine });
    assert.deepEqual(changedFields(mine, merged), []);
  });
});
