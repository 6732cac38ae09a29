// mapViews (the maps of a generated loader's objects): views of created maps are built at once;
// a map load() did not create stays a property that throws the collection's error when used.
import { describe, expect, it } from 'vitest';
import { UsageError } from '../../src/errors.js';
import type { Collection } from '../../src/runtime/collection.js';
import type { BpfMap } from '../../src/runtime/map.js';
import { mapViews } from '../../src/runtime/map-views.js';

/** A collection that created `created`; map() of any other name throws as Collection.map() does. */
function collection(created: string[]): Collection {
  return {
    mapNames: created,
    map(name: string) {
      if (!created.includes(name)) throw new UsageError(`map ${name} was not created`);
      return { name } as unknown as BpfMap;
    },
  } as unknown as Collection;
}

describe('mapViews', () => {
  it('builds the views of created maps at once and leaves the others to fail when used', () => {
    const built: string[] = [];
    const view = (map: BpfMap) => {
      built.push(map.name);
      return { of: map.name };
    };
    const maps = mapViews<{ counts: { of: string }; cgroups: { of: string } }>(collection(['counts']), {
      counts: ['counts', view],
      cgroups: ['cgroup_counts', view],
    });
    expect(built).toEqual(['counts']);
    expect(maps.counts).toEqual({ of: 'counts' });
    expect(maps.counts).toBe(maps.counts);
    expect(Object.keys(maps)).toEqual(['counts', 'cgroups']);
    expect(() => maps.cgroups).toThrow(new UsageError('map cgroup_counts was not created'));
    expect(built).toEqual(['counts']);
  });

  it('fails at once when a view does not fit its map (a loader older than its object)', () => {
    const misfit = () => {
      throw new UsageError('map counts: key size 4, the codec 8');
    };
    expect(() => mapViews<{ counts: never }>(collection(['counts']), { counts: ['counts', misfit] })).toThrow(
      'key size 4',
    );
  });
});
