// The one search every table here needs: the last sorted entry at or below a key.

/**
 * The index of the last entry for which `atOrBelow(index)` holds, in entries sorted so that it
 * holds for a prefix; -1 when it holds for none.
 */
export function lastAtOrBelow(count: number, atOrBelow: (index: number) => boolean): number {
  let low = 0;
  let high = count - 1;
  let found = -1;
  while (low <= high) {
    const mid = (low + high) >>> 1;
    if (atOrBelow(mid)) {
      found = mid;
      low = mid + 1;
    } else high = mid - 1;
  }
  return found;
}
