//! Fuzzes `kcore::memmap::usable_ranges` with arbitrary RAM and reserved
//! ranges anywhere in the 64-bit space.
//!
//! Checks the documented output: sorted, non-empty, page-aligned, disjoint and
//! non-adjacent ranges that lie inside the union of the RAM ranges and touch
//! no reserved range; and that a too-short output slice gets
//! `TooManyRanges` with the same leading ranges.
#![no_main]

use arbitrary::Arbitrary;
use kcore::memmap::{MemMapError, PhysRange, usable_ranges};
use libfuzzer_sys::fuzz_target;

/// Page size the output must be aligned to.
const PAGE_BYTES: u64 = 4096;
/// Cap on ranges per list, keeping each run fast (the sweep is quadratic).
const MAX_RANGES: usize = 64;

#[derive(Arbitrary, Debug)]
struct Input {
    ram: Vec<(u64, u64)>,
    reserved: Vec<(u64, u64)>,
    short_len: u8,
}

fn to_ranges(pairs: &[(u64, u64)]) -> Vec<PhysRange> {
    pairs
        .iter()
        .take(MAX_RANGES)
        .map(|&(start, end)| PhysRange::new(start, end))
        .collect()
}

/// Whether every byte of `range` is in some range of `ram`.
fn inside_union(range: PhysRange, ram: &[PhysRange]) -> bool {
    let mut cursor = range.start;
    while cursor < range.end {
        let reach = ram
            .iter()
            .filter(|r| r.start <= cursor && cursor < r.end)
            .map(|r| r.end)
            .max();
        match reach {
            Some(end) => cursor = end,
            None => return false,
        }
    }
    true
}

fuzz_target!(|input: Input| {
    let ram = to_ranges(&input.ram);
    let reserved = to_ranges(&input.reserved);

    // Every output range ends at the end of a merged RAM stretch or at the
    // start of a reserved range, so this many slots always suffice.
    let mut out = vec![PhysRange::new(0, 0); ram.len() + reserved.len()];
    let count = usable_ranges(&ram, &reserved, &mut out).expect("enough slots");
    let got = &out[..count];

    for range in got {
        assert!(!range.is_empty(), "{range:?}");
        assert_eq!(range.start % PAGE_BYTES, 0, "{range:?}");
        assert_eq!(range.end % PAGE_BYTES, 0, "{range:?}");
        assert!(inside_union(*range, &ram), "{range:?} outside RAM");
        for res in reserved.iter().filter(|r| !r.is_empty()) {
            assert!(
                res.end <= range.start || res.start >= range.end,
                "{range:?} overlaps reserved {res:?}"
            );
        }
    }
    for pair in got.windows(2) {
        assert!(
            pair[0].end < pair[1].start,
            "not sorted or not maximal: {pair:?}"
        );
    }

    let short_len = usize::from(input.short_len);
    let mut short = vec![PhysRange::new(0, 0); short_len];
    match usable_ranges(&ram, &reserved, &mut short) {
        Ok(n) => {
            assert!(count <= short_len);
            assert_eq!(n, count);
            assert_eq!(&short[..n], got);
        }
        Err(MemMapError::TooManyRanges) => {
            assert!(count > short_len);
            assert_eq!(&short[..], &got[..short_len]);
        }
    }
});
