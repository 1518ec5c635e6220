//! Turning a firmware memory map into the page-granular ranges of RAM the
//! frame allocator may hand out.
//!
//! The boot code collects the bootloader's usable-RAM entries and the ranges
//! that must stay untouched (kernel image, boot modules, page tables the
//! bootloader left live), calls [`usable_ranges`], and feeds each result to
//! [`crate::frame::FrameBitmap::add_free_range`].
//!
//! # Rule
//!
//! A 4 KiB page is usable when **every** byte of it lies in some RAM range and
//! **no** byte of it lies in any reserved range. Equivalently: the union of the
//! RAM ranges shrinks inward to page boundaries, and each reserved range grows
//! outward to page boundaries before it is cut out. Adjacent or overlapping
//! RAM ranges are merged first, so a page split between two RAM entries still
//! counts.
//!
//! # Invariants of the output
//!
//! Sorted by address, non-empty, page-aligned at both ends, pairwise disjoint
//! and never adjacent (each range is maximal). Because the input ends are
//! exclusive, the byte at `u64::MAX` is never RAM, so every output end fits in
//! a `u64` (at most `2^64 - 4096`).
//!
//! # Cost
//!
//! No allocation and no sorting: the input is swept in address order by
//! repeated scans, `O((r + s) * (r + s))` for `r` RAM and `s` reserved ranges
//! in the usual case (firmware maps have tens to a few hundred entries).

use core::fmt;

/// Page size the output is aligned to, in bytes.
const PAGE_BYTES: u64 = 4096;

/// A half-open physical byte range `[start, end)`.
///
/// A range with `start >= end` is empty; it is accepted everywhere and covers
/// no byte.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PhysRange {
    /// First byte in the range.
    pub start: u64,
    /// First byte after the range.
    pub end: u64,
}

impl PhysRange {
    /// The range `[start, end)`.
    pub const fn new(start: u64, end: u64) -> Self {
        Self { start, end }
    }

    /// Whether the range covers no byte (`start >= end`).
    pub fn is_empty(&self) -> bool {
        self.start >= self.end
    }

    /// Number of bytes in the range; 0 when it is empty.
    pub fn len(&self) -> u64 {
        self.end.saturating_sub(self.start)
    }
}

/// Why [`usable_ranges`] failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemMapError {
    /// The output slice has room for fewer ranges than the result has.
    TooManyRanges,
}

impl fmt::Display for MemMapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::TooManyRanges => "more usable memory ranges than output slots",
        })
    }
}

/// Usable RAM minus reservations, page-granular: RAM ranges shrink inward to
/// 4 KiB boundaries, reserved ranges grow outward to 4 KiB boundaries (see the
/// module documentation for the exact rule).
///
/// RAM ranges may be unsorted, overlapping, adjacent or empty; reserved ranges
/// likewise. Writes the sorted, disjoint, non-empty result into `out` and
/// returns how many ranges it wrote. Ranges reaching up to `u64::MAX` are
/// handled without overflow.
///
/// # Errors
///
/// [`MemMapError::TooManyRanges`] if the result does not fit in `out`; `out`
/// then holds its first `out.len()` ranges.
pub fn usable_ranges(
    ram: &[PhysRange],
    reserved: &[PhysRange],
    out: &mut [PhysRange],
) -> Result<usize, MemMapError> {
    let mut written = 0;
    // Everything below `swept` (a byte address) has been handled. It only
    // grows, and each step moves it past at least one RAM range.
    let mut swept = 0;
    while let Some(merged) = next_ram_union(ram, swept) {
        swept = merged.end;
        let first_page = merged.start.div_ceil(PAGE_BYTES);
        let end_page = merged.end / PAGE_BYTES;
        let mut page = first_page;
        while page < end_page {
            page = skip_reserved(reserved, page);
            if page >= end_page {
                break;
            }
            let stop = next_reserved_start(reserved, page).min(end_page);
            let slot = out.get_mut(written).ok_or(MemMapError::TooManyRanges)?;
            *slot = PhysRange::new(page_addr(page), page_addr(stop));
            written += 1;
            page = stop;
        }
    }
    Ok(written)
}

/// The next maximal stretch of bytes covered by the union of `ram` that lies
/// entirely at or above `from`, or `None` if there is none.
///
/// Callers pass the end of the previous stretch (or 0), so no non-empty RAM
/// range straddles `from`: each one ends at or below it, or starts above it.
fn next_ram_union(ram: &[PhysRange], from: u64) -> Option<PhysRange> {
    let start = ram
        .iter()
        .filter(|range| !range.is_empty() && range.end > from)
        .map(|range| range.start.max(from))
        .min()?;
    let mut end = start;
    // Extend `end` over every range that overlaps or touches it, until a full
    // pass finds none: at most one pass per range in the stretch, plus one.
    loop {
        let mut grew = false;
        for range in ram {
            if !range.is_empty() && range.start <= end && range.end > end {
                end = range.end;
                grew = true;
            }
        }
        if !grew {
            return Some(PhysRange::new(start, end));
        }
    }
}

/// The pages `[first, end)` that reserved range `range` touches, grown
/// outward; `None` for an empty range. Page numbers are at most `2^52`.
fn reserved_pages(range: &PhysRange) -> Option<(u64, u64)> {
    if range.is_empty() {
        return None;
    }
    let first = range.start / PAGE_BYTES;
    let end = range.end.div_ceil(PAGE_BYTES);
    Some((first, end))
}

/// The first page at or after `page` that no reserved range touches.
fn skip_reserved(reserved: &[PhysRange], mut page: u64) -> u64 {
    loop {
        let mut moved = false;
        for (first, end) in reserved.iter().filter_map(reserved_pages) {
            if first <= page && page < end {
                page = end;
                moved = true;
            }
        }
        if !moved {
            return page;
        }
    }
}

/// The first page after `page` where a reserved range begins, or `u64::MAX`
/// if none does. `page` itself must be unreserved.
fn next_reserved_start(reserved: &[PhysRange], page: u64) -> u64 {
    reserved
        .iter()
        .filter_map(reserved_pages)
        .map(|(first, _)| first)
        .filter(|first| *first > page)
        .min()
        .unwrap_or(u64::MAX)
}

/// Byte address of page number `page`.
///
/// Output pages never exceed `u64::MAX / 4096` (they are bounded by a RAM
/// end divided by the page size), so the multiplication does not saturate in
/// practice; saturating keeps it panic-free regardless.
fn page_addr(page: u64) -> u64 {
    page.saturating_mul(PAGE_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const KIB4: u64 = 4096;

    fn r(start: u64, end: u64) -> PhysRange {
        PhysRange::new(start, end)
    }

    /// Runs [`usable_ranges`] with plenty of room and returns the result.
    fn usable(ram: &[PhysRange], reserved: &[PhysRange]) -> Vec<PhysRange> {
        let mut out = vec![r(0xdead, 0xbeef); 4 * (ram.len() + reserved.len()) + 4];
        let count = usable_ranges(ram, reserved, &mut out).unwrap();
        out.truncate(count);
        out
    }

    /// Checks the documented output invariants.
    fn assert_well_formed(ranges: &[PhysRange]) {
        for range in ranges {
            assert!(!range.is_empty(), "{range:?}");
            assert_eq!(range.start % KIB4, 0, "{range:?}");
            assert_eq!(range.end % KIB4, 0, "{range:?}");
        }
        for pair in ranges.windows(2) {
            assert!(pair[0].end < pair[1].start, "{pair:?}");
        }
    }

    #[test]
    fn phys_range_basics() {
        assert!(r(5, 5).is_empty());
        assert!(r(6, 5).is_empty());
        assert!(!r(5, 6).is_empty());
        assert_eq!(r(5, 6).len(), 1);
        assert_eq!(r(6, 5).len(), 0);
        assert_eq!(r(0, u64::MAX).len(), u64::MAX);
        assert!(!MemMapError::TooManyRanges.to_string().is_empty());
    }

    #[test]
    fn nothing_in_nothing_out() {
        assert_eq!(usable(&[], &[]), vec![]);
        assert_eq!(usable(&[], &[r(0, u64::MAX)]), vec![]);
        assert_eq!(usable(&[r(0, 0), r(10, 3)], &[]), vec![]);
        let mut out: [PhysRange; 0] = [];
        assert_eq!(usable_ranges(&[], &[], &mut out), Ok(0));
    }

    #[test]
    fn ram_shrinks_inward() {
        assert_eq!(usable(&[r(1, 3 * KIB4 - 1)], &[]), vec![r(KIB4, 2 * KIB4)]);
        assert_eq!(usable(&[r(0, 3 * KIB4)], &[]), vec![r(0, 3 * KIB4)]);
        // Less than a whole page: nothing.
        assert_eq!(usable(&[r(1, KIB4 + 5)], &[]), vec![]);
        assert_eq!(usable(&[r(0, KIB4 - 1)], &[]), vec![]);
    }

    #[test]
    fn reserved_grows_outward() {
        let ram = [r(0, 10 * KIB4)];
        assert_eq!(
            usable(&ram, &[r(3 * KIB4 + 1, 3 * KIB4 + 2)]),
            vec![r(0, 3 * KIB4), r(4 * KIB4, 10 * KIB4)]
        );
        assert_eq!(
            usable(&ram, &[r(3 * KIB4 - 1, 4 * KIB4 + 1)]),
            vec![r(0, 2 * KIB4), r(5 * KIB4, 10 * KIB4)]
        );
        // Empty reservations reserve nothing.
        assert_eq!(
            usable(&ram, &[r(5 * KIB4 + 7, 5 * KIB4 + 7)]),
            vec![r(0, 10 * KIB4)]
        );
        assert_eq!(
            usable(&ram, &[r(9 * KIB4, 2 * KIB4)]),
            vec![r(0, 10 * KIB4)]
        );
    }

    #[test]
    fn unsorted_overlapping_and_adjacent_ram_is_merged() {
        let ram = [
            r(20 * KIB4, 30 * KIB4),
            r(0, 5 * KIB4),
            r(2 * KIB4, 8 * KIB4),
            r(8 * KIB4, 9 * KIB4),
            r(25 * KIB4, 26 * KIB4),
        ];
        assert_eq!(
            usable(&ram, &[]),
            vec![r(0, 9 * KIB4), r(20 * KIB4, 30 * KIB4)]
        );
    }

    #[test]
    fn page_split_across_two_ram_entries_is_usable() {
        let ram = [r(KIB4 + 0x800, 3 * KIB4), r(0, KIB4 + 0x800)];
        assert_eq!(usable(&ram, &[]), vec![r(0, 3 * KIB4)]);
    }

    #[test]
    fn reservations_overlap_each_other_and_the_edges() {
        let ram = [r(0, 16 * KIB4)];
        let reserved = [
            r(2 * KIB4, 4 * KIB4),
            r(3 * KIB4, 6 * KIB4),
            r(5 * KIB4, 5 * KIB4 + 1),
            r(15 * KIB4, 100 * KIB4),
            r(10 * KIB4, 11 * KIB4),
        ];
        assert_eq!(
            usable(&ram, &reserved),
            vec![
                r(0, 2 * KIB4),
                r(6 * KIB4, 10 * KIB4),
                r(11 * KIB4, 15 * KIB4)
            ]
        );
    }

    #[test]
    fn fully_reserved() {
        let ram = [r(0, 16 * KIB4), r(32 * KIB4, 40 * KIB4)];
        assert_eq!(usable(&ram, &[r(0, 40 * KIB4)]), vec![]);
        assert_eq!(usable(&ram, &[r(1, 40 * KIB4 - 1)]), vec![]);
        assert_eq!(
            usable(&ram, &[r(0, 16 * KIB4), r(32 * KIB4, 40 * KIB4)]),
            vec![]
        );
        assert_eq!(usable(&ram, &[r(0, u64::MAX)]), vec![]);
    }

    #[test]
    fn ranges_near_the_top_of_the_address_space() {
        let top_page = u64::MAX - (KIB4 - 1);
        // The byte at u64::MAX is never covered, so the last page never is.
        assert_eq!(usable(&[r(top_page, u64::MAX)], &[]), vec![]);
        assert_eq!(
            usable(&[r(top_page - 2 * KIB4, u64::MAX)], &[]),
            vec![r(top_page - 2 * KIB4, top_page)]
        );
        assert_eq!(usable(&[r(0, u64::MAX)], &[]), vec![r(0, top_page)]);
        assert_eq!(
            usable(&[r(0, u64::MAX)], &[r(u64::MAX - 1, u64::MAX)]),
            vec![r(0, top_page)]
        );
        assert_eq!(
            usable(&[r(0, u64::MAX)], &[r(top_page - 1, top_page)]),
            vec![r(0, top_page - KIB4)]
        );
        assert_eq!(
            usable(
                &[r(u64::MAX - 5, u64::MAX), r(u64::MAX, u64::MAX)],
                &[r(u64::MAX, 0)]
            ),
            vec![]
        );
        assert_eq!(
            usable(&[r(0, 4 * KIB4)], &[r(u64::MAX - 1, u64::MAX)]),
            vec![r(0, 4 * KIB4)]
        );
    }

    #[test]
    fn too_many_ranges() {
        let ram = [r(0, 10 * KIB4)];
        let reserved = [r(2 * KIB4, 3 * KIB4), r(5 * KIB4, 6 * KIB4)];
        let mut small = [r(0, 0); 2];
        assert_eq!(
            usable_ranges(&ram, &reserved, &mut small),
            Err(MemMapError::TooManyRanges)
        );
        assert_eq!(small, [r(0, 2 * KIB4), r(3 * KIB4, 5 * KIB4)]);
        let mut exact = [r(0, 0); 3];
        assert_eq!(usable_ranges(&ram, &reserved, &mut exact), Ok(3));
        assert_eq!(exact[2], r(6 * KIB4, 10 * KIB4));
    }

    #[test]
    fn typical_pc_map() {
        // Low memory with the BIOS hole, then RAM above 1 MiB with the kernel
        // image and the initramfs reserved.
        let ram = [
            r(0x10_0000, 0x7fe_0000),
            r(0, 0x9_fc00),
            r(0x1_0000_0000, 0x2_0000_0000),
        ];
        let reserved = [
            r(0, 0x1000),
            r(0x10_0000, 0x32_1234),
            r(0x40_0000, 0x40_0800),
        ];
        let got = usable(&ram, &reserved);
        assert_well_formed(&got);
        assert_eq!(
            got,
            vec![
                r(0x1000, 0x9_f000),
                r(0x32_2000, 0x40_0000),
                r(0x40_1000, 0x7fe_0000),
                r(0x1_0000_0000, 0x2_0000_0000),
            ]
        );
    }

    /// Pages in the model's address space.
    const MODEL_PAGES: u64 = 256;

    /// Pages the model checks: generated ranges start within `MODEL_PAGES`
    /// pages of the base but may run up to 17 pages further.
    const CHECKED_PAGES: u64 = MODEL_PAGES + 32;

    /// The per-page model: which pages of `[base, base + CHECKED_PAGES * 4096)`
    /// are usable, computed straight from the rule with 128-bit arithmetic
    /// (pages past 2^64 come out unusable).
    fn model(base: u64, ram: &[PhysRange], reserved: &[PhysRange]) -> Vec<bool> {
        (0..u128::from(CHECKED_PAGES))
            .map(|index| {
                let page_start = u128::from(base) + index * u128::from(KIB4);
                let page_end = page_start + u128::from(KIB4);
                // Fully covered by the union of RAM: sort the pieces inside
                // the page and check that they leave no gap.
                let mut pieces: Vec<(u128, u128)> = ram
                    .iter()
                    .map(|range| {
                        (
                            u128::from(range.start).max(page_start),
                            u128::from(range.end).min(page_end),
                        )
                    })
                    .filter(|(start, end)| start < end)
                    .collect();
                pieces.sort();
                let mut covered_to = page_start;
                for (start, end) in pieces {
                    if start > covered_to {
                        break;
                    }
                    covered_to = covered_to.max(end);
                }
                let all_ram = covered_to >= page_end;
                let touched = reserved.iter().any(|range| {
                    range.start < range.end
                        && u128::from(range.start) < page_end
                        && u128::from(range.end) > page_start
                });
                all_ram && !touched
            })
            .collect()
    }

    /// The pages of the model as maximal runs, in the output's form.
    fn model_runs(base: u64, usable_pages: &[bool]) -> Vec<PhysRange> {
        let mut runs = Vec::new();
        let mut run_start = None;
        for (index, usable) in usable_pages.iter().copied().chain([false]).enumerate() {
            let addr = u128::from(base) + index as u128 * u128::from(KIB4);
            match (usable, run_start) {
                (true, None) => run_start = Some(addr),
                (false, Some(start)) => {
                    let as_u64 = |addr: u128| u64::try_from(addr).expect("run inside u64 space");
                    runs.push(r(as_u64(start), as_u64(addr)));
                    run_start = None;
                }
                _ => {}
            }
        }
        runs
    }

    /// An offset into the model's space, biased towards page edges.
    fn offset() -> impl Strategy<Value = u64> {
        let within_page = prop_oneof![Just(0u64), Just(1), Just(KIB4 - 1), 0..KIB4];
        (0..=MODEL_PAGES, within_page).prop_map(|(page, within)| page * KIB4 + within)
    }

    /// A range in the model's space (shifted by `base`, clipped at
    /// `u64::MAX`); sometimes empty or reversed.
    fn range_at(base: u64) -> impl Strategy<Value = PhysRange> {
        let shift = move |offset: u64| base.saturating_add(offset);
        prop_oneof![
            4 => (offset(), 0..(16 * KIB4)).prop_map(move |(start, len)| {
                r(shift(start), shift(start).saturating_add(len))
            }),
            1 => (offset(), offset()).prop_map(move |(start, end)| r(shift(start), shift(end))),
        ]
    }

    fn map_at(base: u64) -> impl Strategy<Value = (u64, Vec<PhysRange>, Vec<PhysRange>)> {
        (
            Just(base),
            proptest::collection::vec(range_at(base), 0..8),
            proptest::collection::vec(range_at(base), 0..6),
        )
    }

    /// Maps at address 0 and at the very top of the address space, where the
    /// model's last page ends exactly at 2^64.
    fn any_map() -> impl Strategy<Value = (u64, Vec<PhysRange>, Vec<PhysRange>)> {
        prop_oneof![
            3 => map_at(0),
            1 => map_at(0u64.wrapping_sub(MODEL_PAGES * KIB4)),
            1 => map_at(0x1234_5000_0000),
        ]
    }

    proptest! {
        #[test]
        fn matches_the_per_page_model((base, ram, reserved) in any_map()) {
            let got = usable(&ram, &reserved);
            assert_well_formed(&got);
            let want = model_runs(base, &model(base, &ram, &reserved));
            prop_assert_eq!(got, want);
        }

        #[test]
        fn short_output_is_reported((base, ram, reserved) in any_map()) {
            let _ = base;
            let full = usable(&ram, &reserved);
            let mut exact = vec![r(0, 0); full.len()];
            prop_assert_eq!(usable_ranges(&ram, &reserved, &mut exact), Ok(full.len()));
            prop_assert_eq!(&exact, &full);
            if !full.is_empty() {
                let mut short = vec![r(0, 0); full.len() - 1];
                prop_assert_eq!(
                    usable_ranges(&ram, &reserved, &mut short),
                    Err(MemMapError::TooManyRanges)
                );
                prop_assert_eq!(&short[..], &full[..full.len() - 1]);
            }
        }

        #[test]
        fn arbitrary_u64_ranges_never_panic_and_stay_inside_ram(
            ram in proptest::collection::vec((any::<u64>(), any::<u64>()), 0..8),
            reserved in proptest::collection::vec((any::<u64>(), any::<u64>()), 0..8),
        ) {
            let ram: Vec<_> = ram.into_iter().map(|(start, end)| r(start, end)).collect();
            let reserved: Vec<_> = reserved.into_iter().map(|(start, end)| r(start, end)).collect();
            let got = usable(&ram, &reserved);
            assert_well_formed(&got);
            for range in &got {
                // Inside the union of RAM: walk the covering ranges.
                let mut cursor = range.start;
                while cursor < range.end {
                    let next = ram
                        .iter()
                        .filter(|ram| ram.start <= cursor && cursor < ram.end)
                        .map(|ram| ram.end)
                        .max();
                    prop_assert!(next.is_some(), "{range:?} not inside RAM {ram:?}");
                    cursor = next.unwrap_or(u64::MAX);
                }
                for res in reserved.iter().filter(|res| !res.is_empty()) {
                    prop_assert!(res.end <= range.start || res.start >= range.end);
                }
            }
        }
    }
}
