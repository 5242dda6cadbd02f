//! Stable sorting that compiles small.
//!
//! `slice::sort_by` compiles its whole algorithm (driftsort, about 3.5 KB
//! of wasm) again for every element type and every comparison closure: the
//! browser's one wasm held 36 copies. Here the algorithm is compiled once:
//! [`sorted_order`] merge-sorts the *indices* `0..n` with a `dyn`
//! comparison, and [`sort_by`] then moves the elements into that order with
//! swaps (the only code compiled per call site, a few dozen instructions).
//!
//! For the metadata-sized lists of the readers and the app (names, links,
//! byte ranges, table rows): O(n log n) comparisons and stable, like
//! `slice::sort_by`. Numeric arrays on a hot path keep the standard sorts.

use std::cmp::Ordering;

/// The order that sorts `n` items stably: `order[i]` is the index of the
/// item that belongs at position `i`. `compare(a, b)` compares items `a`
/// and `b`. A bottom-up merge sort over index runs (insertion-sorted runs
/// of 16 first); one copy in the whole program.
pub fn sorted_order(n: usize, compare: &mut dyn FnMut(usize, usize) -> Ordering) -> Vec<usize> {
    const RUN: usize = 16;
    let mut order: Vec<usize> = (0..n).collect();
    // Short runs by insertion (stable: an item moves left only past greater ones).
    for start in (0..n).step_by(RUN) {
        let end = (start + RUN).min(n);
        for i in start + 1..end {
            let mut j = i;
            while j > start && compare(order[j - 1], order[j]) == Ordering::Greater {
                order.swap(j - 1, j);
                j -= 1;
            }
        }
    }
    // Then merges of neighbouring runs, each pass doubling their width.
    let mut scratch = vec![0usize; n];
    let mut width = RUN;
    while width < n {
        for start in (0..n).step_by(2 * width) {
            let mid = (start + width).min(n);
            let end = (start + 2 * width).min(n);
            let (mut a, mut b) = (start, mid);
            for slot in &mut scratch[start..end] {
                // Ties take the left run's item first: stable.
                let take_left =
                    b >= end || (a < mid && compare(order[a], order[b]) != Ordering::Greater);
                if take_left {
                    *slot = order[a];
                    a += 1;
                } else {
                    *slot = order[b];
                    b += 1;
                }
            }
        }
        std::mem::swap(&mut order, &mut scratch);
        width *= 2;
    }
    order
}

/// Moves `v`'s items into `order` (`v[i]` becomes the old `v[order[i]]`),
/// with swaps along each cycle of the permutation. `order` must be a
/// permutation of `0..v.len()` (as [`sorted_order`] gives).
fn permute<T>(v: &mut [T], mut order: Vec<usize>) {
    for i in 0..v.len() {
        let mut current = i;
        loop {
            let next = order[current];
            // Placed (or about to be): never visited again.
            order[current] = current;
            if next == i {
                break;
            }
            v.swap(current, next);
            current = next;
        }
    }
}

/// Sorts `v` stably by `compare`, as `slice::sort_by` does.
pub fn sort_by<T>(v: &mut [T], mut compare: impl FnMut(&T, &T) -> Ordering) {
    let order = sorted_order(v.len(), &mut |a, b| compare(&v[a], &v[b]));
    permute(v, order);
}

/// Sorts `v` stably by `key`, as `slice::sort_by_key` does.
pub fn sort_by_key<T, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// Sorts `v` stably, as `slice::sort` does.
pub fn sort<T: Ord>(v: &mut [T]) {
    sort_by(v, Ord::cmp);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Against the standard library's stable sort, on random lists of every
    /// length up to 300 and a few long ones, with many equal keys (so
    /// stability shows: the items carry their original position).
    #[test]
    fn sorts_as_the_standard_library_does() {
        let mut rng = fastrand::Rng::with_seed(7);
        let lengths = (0..300).chain([1000, 4097, 20_000]);
        for n in lengths {
            for keys in [2u32, 10, 1_000_000] {
                let items: Vec<(u32, usize)> = (0..n).map(|i| (rng.u32(0..keys), i)).collect();
                let mut expected = items.clone();
                expected.sort_by_key(|item| item.0);
                let mut got = items.clone();
                sort_by_key(&mut got, |item| item.0);
                assert_eq!(got, expected, "n = {n}, keys < {keys}");
            }
        }
    }

    #[test]
    fn sorted_and_reversed_input() {
        let mut up: Vec<u64> = (0..1000).collect();
        sort(&mut up);
        assert!(up.windows(2).all(|w| w[0] <= w[1]));
        let mut down: Vec<u64> = (0..1000).rev().collect();
        sort(&mut down);
        assert_eq!(down, (0..1000).collect::<Vec<_>>());
        let mut strings = vec!["b".to_string(), "a".into(), "c".into(), "a".into()];
        sort_by(&mut strings, |a, b| b.cmp(a));
        assert_eq!(strings, ["c", "b", "a", "a"]);
    }

    /// A comparison that is not a total order (NaN by `partial_cmp`) must
    /// not panic or lose items: the result is some permutation.
    #[test]
    fn an_inconsistent_comparison_keeps_every_item() {
        let mut rng = fastrand::Rng::with_seed(3);
        let mut v: Vec<f64> = (0..500)
            .map(|i| if i % 7 == 0 { f64::NAN } else { rng.f64() })
            .collect();
        let mut before: Vec<u64> = v.iter().map(|x| x.to_bits()).collect();
        sort_by(&mut v, |a, b| a.partial_cmp(b).unwrap_or(Ordering::Less));
        let mut after: Vec<u64> = v.iter().map(|x| x.to_bits()).collect();
        before.sort_unstable();
        after.sort_unstable();
        assert_eq!(before, after);
    }
}
