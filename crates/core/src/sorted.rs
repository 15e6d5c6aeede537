//! Runs of equal keys in arrays sorted by customer, found by walking forward: the
//! reads of every customer come in id order, so a look-up per customer can start where
//! the one before ended instead of searching the whole array.

use std::ops::Range;

use crate::ids::CustomerId;

/// The run of `id` in `sorted` (ascending by `key`), searched from `*at` (where the
/// previous search ended) when `id` lies after it: doubling steps forward from there,
/// then a binary search within the last step. Ids asked in ascending order walk the
/// array once, mostly within the processor's cache, where a binary search over the
/// whole array for each of a million customers missed it on every step near its
/// end. An id before `*at` is searched in the whole array. `*at` becomes the run's end.
pub(crate) fn run_from<T>(
    sorted: &[T],
    id: CustomerId,
    key: impl Fn(&T) -> CustomerId,
    at: &mut usize,
) -> Range<usize> {
    let from = (*at).min(sorted.len());
    let start = if from == 0 || key(&sorted[from - 1]) < id {
        // Everything before `from` is below `id`: find the first key ≥ `id` after it.
        let mut step = 1;
        let mut low = from;
        while low + step <= sorted.len() && key(&sorted[low + step - 1]) < id {
            low += step;
            step *= 2;
        }
        let high = (low + step).min(sorted.len());
        low + sorted[low..high].partition_point(|x| key(x) < id)
    } else {
        sorted.partition_point(|x| key(x) < id)
    };
    let len = sorted[start..].iter().take_while(|x| key(x) == id).count();
    *at = start + len;
    start..start + len
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        /// Each run found from where the last one ended is the run a scan of the whole
        /// array finds, for ids asked in ascending order (the stages' order), repeated,
        /// missing, or going back.
        #[test]
        fn a_run_found_from_the_last_one_is_the_whole_arrays_run(
            mut keys in prop::collection::vec(1_u64..60, 0..80),
            mut asked in prop::collection::vec(0_u64..64, 0..40),
            ascending in any::<bool>(),
        ) {
            keys.sort_unstable();
            if ascending {
                asked.sort_unstable();
            }
            let sorted: Vec<CustomerId> = keys.into_iter().map(CustomerId::new).collect();
            let mut at = 0;
            for id in asked.into_iter().map(CustomerId::new) {
                let found = run_from(&sorted, id, |&c| c, &mut at);
                let first = sorted.iter().position(|&c| c >= id).unwrap_or(sorted.len());
                let len = sorted.iter().filter(|&&c| c == id).count();
                prop_assert_eq!(found, first..first + len);
                prop_assert_eq!(at, first + len);
            }
        }
    }
}
