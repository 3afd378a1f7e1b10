import { describe, expect, it } from 'vitest';
import { RecentlyUsed } from './recently-used';

describe('RecentlyUsed: the write caches keep at most entriesMax, the least recently used go first', () => {
  it('drops the oldest beyond its bound; a get counts as a use, a peek does not', () => {
    const cache = new RecentlyUsed<number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1); // a is now the most recently used
    cache.set('c', 3);
    expect(cache.peek('b')).toBeUndefined();
    expect(cache.peek('a')).toBe(1); // a peek: c then a is the order of use, a stays oldest
    cache.set('d', 4);
    expect(cache.missing(['a', 'c', 'd', 'd'])).toEqual(['a']);
  });

  it('setting a held key again replaces it and marks it used; delete forgets it', () => {
    const cache = new RecentlyUsed<string>(2);
    cache.set('a', 'old');
    cache.set('b', 'b');
    cache.set('a', 'new');
    cache.set('c', 'c');
    expect([cache.peek('a'), cache.peek('b'), cache.peek('c')]).toEqual(['new', undefined, 'c']);
    cache.delete('a');
    expect(cache.missing(['a', 'c'])).toEqual(['a']);
  });
});
