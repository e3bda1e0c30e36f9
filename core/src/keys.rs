//! The mapper's group keys: every key's bytes in one arena, found through a
//! hash index of group numbers, not a boxed key per group (an allocation
//! and a free per group); the arena also keeps the keys in group order, so
//! writing the groups out reads memory in sequence.

use std::hash::BuildHasher;

use hashbrown::{DefaultHashBuilder, HashTable};

/// Slice equality without a `memcmp` call for short keys (a year, a
/// country code): the mapper compares a key with the last line's and
/// with the index's on every line that changes group.
#[inline(always)]
pub fn same_key(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    // Short keys as two overlapping words from each end (a year is two
    // 4-byte compares), not a loop over their bytes.
    fn ends<const W: usize>(a: &[u8], b: &[u8]) -> bool {
        a.first_chunk::<W>() == b.first_chunk::<W>() && a.last_chunk::<W>() == b.last_chunk::<W>()
    }
    match a.len() {
        0 => true,
        1..=3 => ends::<1>(a, b) && a[a.len() / 2] == b[a.len() / 2],
        4..=7 => ends::<4>(a, b),
        8..=16 => ends::<8>(a, b),
        _ => a == b,
    }
}

/// Keys of groups `0..len()`, in the order they were added.
#[derive(Debug)]
pub struct Keys {
    arena: Vec<u8>,
    /// Key `i` is `arena[bounds[i]..bounds[i + 1]]` (`bounds[0]` is 0).
    bounds: Vec<usize>,
    index: HashTable<usize>,
    state: DefaultHashBuilder,
}

impl Default for Keys {
    fn default() -> Self {
        Self {
            arena: Vec::new(),
            bounds: vec![0],
            index: HashTable::new(),
            state: DefaultHashBuilder::default(),
        }
    }
}

impl Keys {
    pub fn len(&self) -> usize {
        self.bounds.len() - 1
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes the arena holds.
    pub fn bytes(&self) -> usize {
        self.arena.len()
    }

    /// Key `i`.
    #[inline]
    pub fn get(&self, i: usize) -> &[u8] {
        slice(&self.arena, &self.bounds, i)
    }

    /// Room for `n` keys' bounds. The index is left to grow as keys come:
    /// reserved for the table's limit, a few keys would be spread over
    /// its whole size, and each lookup would miss the cache.
    pub fn reserve(&mut self, n: usize) {
        self.bounds.reserve(n);
    }

    /// The number of `key`, if held.
    #[inline]
    pub fn find(&self, key: &[u8]) -> Option<usize> {
        let h = self.state.hash_one(key);
        self.index
            .find(h, |&i| same_key(slice(&self.arena, &self.bounds, i), key))
            .copied()
    }

    /// Adds `key` (not held) as number `len()`; returns it.
    pub fn push(&mut self, key: &[u8]) -> usize {
        let i = self.len();
        self.arena.extend_from_slice(key);
        self.bounds.push(self.arena.len());
        let hash = hasher(&self.state, &self.arena, &self.bounds);
        self.index.insert_unique(hash(&i), i, hash);
        i
    }

    /// Keeps the keys whose `keep` is true, renumbered in order (as the
    /// groups are compacted beside them), moved down in place.
    pub fn retain(&mut self, keep: &[bool]) {
        let (mut w, mut at) = (0, 0);
        for i in 0..self.len() {
            let (start, end) = (self.bounds[i], self.bounds[i + 1]);
            if keep.get(i) == Some(&true) {
                self.arena.copy_within(start..end, at);
                at += end - start;
                w += 1;
                // Bound `w` is at most `i + 1`, already read for key `i`;
                // only the kept keys' bounds before it are rewritten.
                self.bounds[w] = at;
            }
        }
        self.arena.truncate(at);
        self.bounds.truncate(w + 1);
        self.index.clear();
        let hash = hasher(&self.state, &self.arena, &self.bounds);
        for i in 0..w {
            self.index.insert_unique(hash(&i), i, &hash);
        }
    }

    pub fn clear(&mut self) {
        self.arena.clear();
        self.bounds.truncate(1);
        self.index.clear();
    }
}

/// The hash of key number `i`, as the index needs it to place and move
/// entries (from fields, so that the index itself can be borrowed
/// mutably beside them).
fn hasher<'a>(
    state: &'a DefaultHashBuilder,
    arena: &'a [u8],
    bounds: &'a [usize],
) -> impl Fn(&usize) -> u64 + 'a {
    move |&i| state.hash_one(slice(arena, bounds, i))
}

/// Key `i` of `arena` split at `bounds` (a free function, so the index's
/// closures can borrow the arena while the index is borrowed mutably).
#[inline]
fn slice<'a>(arena: &'a [u8], bounds: &[usize], i: usize) -> &'a [u8] {
    &arena[bounds[i]..bounds[i + 1]]
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// As slice equality, for keys of every short length, equal or
        /// differing in any one byte (each end, the middle) or in length.
        #[test]
        fn same_key_is_equality(
            a in prop::collection::vec(any::<u8>(), 0..40),
            at in any::<prop::sample::Index>(),
            flip in 1u8..=255,
            shorten in any::<bool>(),
        ) {
            prop_assert!(same_key(&a, &a.clone()));
            let mut b = a.clone();
            if !b.is_empty() {
                let i = at.index(b.len());
                b[i] ^= flip;
                prop_assert!(!same_key(&a, &b));
                prop_assert!(!same_key(&b, &a));
            }
            if shorten && !a.is_empty() {
                prop_assert!(!same_key(&a, &a[..a.len() - 1]));
            }
        }

        /// Against a map from key to number: finds, pushes and retains.
        #[test]
        fn behaves_as_a_map(
            keys in prop::collection::vec(prop::collection::vec(0u8..4, 0..6), 0..300),
            keep in prop::collection::vec(any::<bool>(), 300),
        ) {
            let mut k = Keys::default();
            let mut model: Vec<Vec<u8>> = Vec::new();
            for key in &keys {
                let want = model.iter().position(|m| m == key);
                prop_assert_eq!(k.find(key), want);
                if want.is_none() {
                    prop_assert_eq!(k.push(key), model.len());
                    model.push(key.clone());
                }
            }
            let keep = &keep[..model.len()];
            k.retain(keep);
            let model: Vec<Vec<u8>> = model
                .into_iter()
                .zip(keep)
                .filter(|(_, k)| **k)
                .map(|(m, _)| m)
                .collect();
            prop_assert_eq!(k.len(), model.len());
            for (i, m) in model.iter().enumerate() {
                prop_assert_eq!(k.get(i), m.as_slice());
                prop_assert_eq!(k.find(m), Some(i));
            }
            for key in &keys {
                if !model.contains(key) {
                    prop_assert_eq!(k.find(key), None);
                }
            }
            prop_assert_eq!(k.bytes(), model.iter().map(Vec::len).sum::<usize>());
        }
    }
}
