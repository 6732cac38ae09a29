// The typed views a generated loader gives a loaded object's maps (`objects.maps`). Each is built
// at load, so a loader that no longer fits its object fails there; a map load() did not create
// (its autocreate was off, e.g. a map type an older kernel lacks) stays a property, as libbpf's
// skeletons keep such a map with no fd, and using it throws Collection.map()'s UsageError.

import type { Collection } from './collection.js';
import type { BpfMap } from './map.js';

/** For each view: the C name of its map and how the view is made from the map. */
export type MapViewBuilders<T> = {
  readonly [K in keyof T]: readonly [name: string, build: (map: BpfMap) => T[K]];
};

/**
 * The typed views of `collection`'s maps by the keys of `builders` (a generated loader's
 * `objects.maps`): built now where load() created the map, else a property that throws
 * Collection.map()'s UsageError when used (the map's autocreate was off).
 */
export function mapViews<T extends object>(collection: Collection, builders: MapViewBuilders<T>): T {
  const created = new Set(collection.mapNames);
  const views = {} as T;
  for (const key of Object.keys(builders) as Array<keyof T & string>) {
    const [name, build] = builders[key];
    const property = created.has(name)
      ? { value: build(collection.map(name)) }
      : { get: () => collection.map(name) };
    Object.defineProperty(views, key, { ...property, enumerable: true });
  }
  return views;
}
