//! The mapped regions of one address space: a sorted list of fixed capacity.
//!
//! The kernel keeps one [`RegionList`] in each AddressSpace object. A
//! [`Region`] says that `pages` pages from `start` show pages
//! `offset..offset + pages` of a memory object. The page-fault handler asks
//! [`RegionList::find`] which region (so which object page) backs an address;
//! the map, unmap and protect invocations go through [`RegionList::insert`],
//! [`RegionList::remove_range`] and [`RegionList::protect`]. This module knows
//! nothing of page tables: `T` is the kernel's handle to an object, `attrs` is
//! opaque, and callbacks name the pieces whose mappings (and object
//! references) the caller must update.
//!
//! Nothing here allocates or panics. Every range goes through
//! [`RegionList::check`] with checked arithmetic, and each operation checks
//! everything, including that its splits have free entries, before it changes
//! anything: an error leaves the list as it was.
//!
//! # Invariants
//!
//! - `len <= N`; `entries[..len]` are `Some`, `entries[len..]` are `None`.
//! - Every region is page-aligned, non-empty and inside `[lo, hi)`:
//!   `lo <= start` and `start + pages * PAGE_BYTES <= hi`, without overflow;
//!   `offset + pages` does not overflow either.
//! - Regions are sorted by `start` and do not overlap: each ends at or before
//!   the next one starts. So the ends are sorted too, and one binary search on
//!   them finds the region holding an address.
//! - Neighbours are never merged: two adjacent regions stay two entries even
//!   when they show consecutive pages of one object with the same `attrs`.

/// Bytes in one page; regions start and end on multiples of it.
pub const PAGE_BYTES: u64 = 4096;

/// One mapped region: `pages` pages from `start`, showing pages
/// `offset..offset + pages` of `object`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Region<T> {
    /// First address of the region; page-aligned.
    pub start: u64,
    /// Number of pages; more than 0.
    pub pages: u64,
    /// Page of `object` shown at `start`.
    pub offset: u64,
    /// Opaque here: the kernel keeps access rights and flags in it.
    pub attrs: u32,
    /// The kernel's handle to the memory object shown.
    pub object: T,
}

impl<T> Region<T> {
    /// First address after the region, `start + pages * PAGE_BYTES`
    /// (saturating; exact for every region a [`RegionList`] holds).
    pub fn end(&self) -> u64 {
        self.start
            .saturating_add(self.pages.saturating_mul(PAGE_BYTES))
    }

    /// The page of `object` shown at `addr`, `offset + (addr - start) /
    /// PAGE_BYTES` (saturating; meaningful when the region contains `addr`).
    pub fn object_page(&self, addr: u64) -> u64 {
        self.offset
            .saturating_add(addr.saturating_sub(self.start) / PAGE_BYTES)
    }

    /// Whether `addr` lies in `[start, end)`.
    pub fn contains(&self, addr: u64) -> bool {
        self.start <= addr && addr < self.end()
    }
}

impl<T: Copy> Region<T> {
    /// The part of the region inside `[from, to)`, with its own `offset`.
    /// Callers pass page-aligned bounds that leave a non-empty piece, so
    /// nothing here overflows.
    fn slice(&self, from: u64, to: u64) -> Self {
        let start = self.start.max(from);
        Self {
            start,
            pages: (self.end().min(to) - start) / PAGE_BYTES,
            offset: self.offset + (start - self.start) / PAGE_BYTES,
            ..*self
        }
    }
}

/// Why an operation on a [`RegionList`] was refused; the list is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegionError {
    /// The start address is not page-aligned.
    Unaligned,
    /// The range has 0 pages.
    Empty,
    /// The range starts below `lo` or ends above `hi`, or its end (or, for
    /// [`RegionList::insert`], `offset + pages`) overflows a `u64`.
    OutOfBounds,
    /// [`RegionList::insert`]: a page of the range is already mapped.
    Overlap,
    /// No free entry for a new region or for the piece a split creates.
    Full,
    /// [`RegionList::protect`], [`RegionList::check_mapped`]: a page of the
    /// range is not mapped.
    NotMapped,
}

/// The regions of one address space: sorted by address, non-overlapping, at
/// most `N` of them, all inside `[lo, hi)` (see the module invariants).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegionList<T: Copy + Eq, const N: usize> {
    /// The regions in address order, packed at the front; `None` from `len`.
    entries: [Option<Region<T>>; N],
    /// Number of regions.
    len: usize,
    /// Lowest address a region may start at.
    lo: u64,
    /// Address every region ends at or below.
    hi: u64,
}

impl<T: Copy + Eq, const N: usize> RegionList<T, N> {
    /// An empty list whose regions must lie in `[lo, hi)` (the kernel passes
    /// `0x1000` and `0x0000_7fff_ffff_f000`). With `lo >= hi` nothing fits.
    pub const fn new(lo: u64, hi: u64) -> Self {
        Self {
            entries: [None; N],
            len: 0,
            lo,
            hi,
        }
    }

    /// Most regions the list holds, `N`.
    pub const fn capacity() -> usize {
        N
    }

    /// Number of regions.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether no region is mapped.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The regions in address order.
    pub fn iter(&self) -> impl Iterator<Item = &Region<T>> {
        self.live().iter().flatten()
    }

    /// The regions showing `object`, in address order (for example to unmap
    /// them when the object is destroyed).
    pub fn regions_of(&self, object: T) -> impl Iterator<Item = &Region<T>> {
        self.iter().filter(move |region| region.object == object)
    }

    /// The region containing `addr`, if any: one binary search, for the
    /// page-fault path.
    pub fn find(&self, addr: u64) -> Option<&Region<T>> {
        self.get(self.first_ending_after(addr))
            .filter(|region| region.start <= addr)
    }

    /// Validates the range of `pages` pages from `start`; returns its end.
    ///
    /// # Errors
    ///
    /// [`RegionError::Unaligned`], then [`RegionError::Empty`], then
    /// [`RegionError::OutOfBounds`] (below `lo`, above `hi`, or overflow).
    pub fn check(&self, start: u64, pages: u64) -> Result<u64, RegionError> {
        if !start.is_multiple_of(PAGE_BYTES) {
            return Err(RegionError::Unaligned);
        }
        if pages == 0 {
            return Err(RegionError::Empty);
        }
        let end = pages
            .checked_mul(PAGE_BYTES)
            .and_then(|bytes| start.checked_add(bytes))
            .ok_or(RegionError::OutOfBounds)?;
        if start < self.lo || end > self.hi {
            return Err(RegionError::OutOfBounds);
        }
        Ok(end)
    }

    /// Validates the range of `pages` pages from `start` and that every
    /// page of it is in a region; returns its end.
    ///
    /// # Errors
    ///
    /// Those of [`RegionList::check`], then [`RegionError::NotMapped`] if a
    /// page of the range is in no region.
    pub fn check_mapped(&self, start: u64, pages: u64) -> Result<u64, RegionError> {
        let end = self.check(start, pages)?;
        let (first, last) = self.span(start, end);
        // No hole: each region starts where the covered part reaches so far,
        // and the last one reaches the end.
        let mut reach = start;
        for region in self.entries[first..last].iter().flatten() {
            if region.start > reach {
                return Err(RegionError::NotMapped);
            }
            reach = region.end();
        }
        if reach < end {
            return Err(RegionError::NotMapped);
        }
        Ok(end)
    }

    /// Adds `region`.
    ///
    /// # Errors
    ///
    /// Those of [`RegionList::check`], [`RegionError::OutOfBounds`] if
    /// `offset + pages` overflows, [`RegionError::Overlap`] if a page is
    /// already mapped, then [`RegionError::Full`] if `N` regions exist.
    pub fn insert(&mut self, region: Region<T>) -> Result<(), RegionError> {
        let end = self.check(region.start, region.pages)?;
        if region.offset.checked_add(region.pages).is_none() {
            return Err(RegionError::OutOfBounds);
        }
        // The first region ending after the start must start at or after the
        // end; the new one goes in front of it.
        let index = self.first_ending_after(region.start);
        if self.get(index).is_some_and(|next| next.start < end) {
            return Err(RegionError::Overlap);
        }
        if self.len == N {
            return Err(RegionError::Full);
        }
        self.insert_at(index, region);
        Ok(())
    }

    /// Unmaps the `pages` pages from `start`: regions wholly inside go,
    /// regions crossing an end are trimmed, and a region reaching past both
    /// ends is split in two. Calls `removed` with each unmapped piece (its own
    /// `start`, `pages` and `offset`) in address order and returns how many
    /// there were. Holes are fine: a range with nothing mapped gives `Ok(0)`.
    ///
    /// # Errors
    ///
    /// Those of [`RegionList::check`], then [`RegionError::Full`] if a split
    /// is needed and `N` regions exist.
    pub fn remove_range(
        &mut self,
        start: u64,
        pages: u64,
        mut removed: impl FnMut(Region<T>),
    ) -> Result<usize, RegionError> {
        let end = self.check(start, pages)?;
        let (first, last) = self.span(start, end);
        if first == last {
            return Ok(0);
        }
        // The regions reaching before the start and past the end.
        let head = self.get(first).filter(|r| r.start < start).copied();
        let mut tail = self.get(last - 1).filter(|r| r.end() > end).copied();
        if head.is_some() && tail.is_some() && first + 1 == last {
            // One region around the range: cut off its tail, then trim it.
            if self.len == N {
                return Err(RegionError::Full);
            }
            self.split(first, end);
            tail = None;
        }
        for region in self.entries[first..last].iter().flatten() {
            removed(region.slice(start, end));
        }
        if let Some(region) = head {
            self.entries[first] = Some(region.slice(region.start, start));
        }
        if let Some(region) = tail {
            self.entries[last - 1] = Some(region.slice(end, region.end()));
        }
        let from = first + usize::from(head.is_some());
        self.remove_entries(from, last - usize::from(tail.is_some()));
        Ok(last - first)
    }

    /// Removes and returns the region at `index` (address order), if any:
    /// the cheap case of [`RegionList::remove_range`] when a range is
    /// exactly one region.
    pub fn remove_at(&mut self, index: usize) -> Option<Region<T>> {
        let region = *self.get(index)?;
        self.remove_entries(index, index + 1);
        Some(region)
    }

    /// Sets `attrs = attrs(old)` on the `pages` pages from `start`, splitting
    /// the regions that cross either end, and calls `changed` with each piece
    /// inside the range (after the change) in address order; returns how many
    /// there were. Does not merge neighbours.
    ///
    /// # Errors
    ///
    /// Those of [`RegionList::check_mapped`], then [`RegionError::Full`] if
    /// the splits need more free entries than there are.
    pub fn protect(
        &mut self,
        start: u64,
        pages: u64,
        mut attrs: impl FnMut(u32) -> u32,
        mut changed: impl FnMut(&Region<T>),
    ) -> Result<usize, RegionError> {
        let end = self.check_mapped(start, pages)?;
        let (mut first, mut last) = self.span(start, end);
        // Here `first < last`: the range is non-empty and covered.
        let split_head = self.get(first).is_some_and(|region| region.start < start);
        let split_tail = self.get(last - 1).is_some_and(|region| region.end() > end);
        if N - self.len < usize::from(split_head) + usize::from(split_tail) {
            return Err(RegionError::Full);
        }
        // The tail first, so that `first` still names the head's region.
        if split_tail {
            self.split(last - 1, end);
        }
        if split_head {
            self.split(first, start);
            first += 1;
            last += 1;
        }
        for region in self.entries[first..last].iter_mut().flatten() {
            region.attrs = attrs(region.attrs);
            changed(region);
        }
        Ok(last - first)
    }

    /// Removes every region, calling `removed` with each in address order.
    pub fn clear(&mut self, mut removed: impl FnMut(Region<T>)) {
        for entry in &mut self.entries[..self.len] {
            if let Some(region) = entry.take() {
                removed(region);
            }
        }
        self.len = 0;
    }

    /// The entries holding regions (all `Some`).
    fn live(&self) -> &[Option<Region<T>>] {
        &self.entries[..self.len]
    }

    /// The region at `index` (address order), or `None` past the last one.
    pub fn get(&self, index: usize) -> Option<&Region<T>> {
        self.live().get(index)?.as_ref()
    }

    /// Index of the first region ending after `addr` (`len` if none).
    fn first_ending_after(&self, addr: u64) -> usize {
        self.live()
            .partition_point(|entry| entry.is_some_and(|region| region.end() <= addr))
    }

    /// The indices `first..last` (for [`RegionList::get`]) of the regions
    /// meeting `[start, end)`.
    pub fn span(&self, start: u64, end: u64) -> (usize, usize) {
        let first = self.first_ending_after(start);
        let count = self.live()[first..]
            .partition_point(|entry| entry.is_some_and(|region| region.start < end));
        (first, first + count)
    }

    /// Puts `region` at `index <= len`, shifting the later ones up; the
    /// caller has checked that `len < N`.
    fn insert_at(&mut self, index: usize, region: Region<T>) {
        // Entry `len` is `None`: the rotation brings it down to `index`.
        self.entries[index..=self.len].rotate_right(1);
        self.entries[index] = Some(region);
        self.len += 1;
    }

    /// Removes the regions `from..to`, shifting the later ones down.
    fn remove_entries(&mut self, from: usize, to: usize) {
        let count = to - from;
        self.entries.copy_within(to..self.len, from);
        self.entries[self.len - count..self.len].fill(None);
        self.len -= count;
    }

    /// Cuts the region at `index` in two at `addr`, a page boundary strictly
    /// inside it; the caller has checked that `len < N`.
    fn split(&mut self, index: usize, addr: u64) {
        if let Some(region) = self.get(index).copied() {
            self.entries[index] = Some(region.slice(region.start, addr));
            self.insert_at(index + 1, region.slice(addr, region.end()));
        }
    }

    /// Asserts the module invariants.
    #[cfg(test)]
    fn check_invariants(&self) {
        assert!(self.len <= N);
        assert!(self.entries[..self.len].iter().all(Option::is_some));
        assert!(self.entries[self.len..].iter().all(Option::is_none));
        let mut previous_end = self.lo;
        for region in self.iter() {
            assert_eq!(self.check(region.start, region.pages), Ok(region.end()));
            assert!(region.offset.checked_add(region.pages).is_some());
            assert!(region.start >= previous_end, "unsorted or overlapping");
            previous_end = region.end();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::RegionError::*;
    use super::*;

    #[test]
    fn remove_at_takes_one_region() {
        let mut list: RegionList<u32, 4> = RegionList::new(0x1000, 0x10_0000);
        for (i, start) in [0x1000u64, 0x3000, 0x8000].into_iter().enumerate() {
            let region = Region {
                start,
                pages: 1,
                offset: 0,
                attrs: 0,
                object: i as u32,
            };
            list.insert(region).unwrap();
        }
        assert_eq!(list.remove_at(1).map(|r| r.object), Some(1));
        assert_eq!(list.len(), 2);
        assert_eq!(list.find(0x3000), None);
        assert_eq!(list.find(0x8000).map(|r| r.object), Some(2));
        assert_eq!(list.remove_at(5), None);
        list.check_invariants();
    }
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    const P: u64 = PAGE_BYTES;
    type List = RegionList<u32, 4>;

    /// A region of `object` from page `start`.
    fn region(start: u64, pages: u64, offset: u64, attrs: u32, object: u32) -> Region<u32> {
        Region {
            start: start * P,
            pages,
            offset,
            attrs,
            object,
        }
    }

    /// A list in pages `1..0x100` holding `start+pages@offset` regions of
    /// object 7.
    fn list_of(regions: &str) -> List {
        let mut list = List::new(P, 0x100 * P);
        for text in regions.split_whitespace() {
            let n: Vec<u64> = text.split(['+', '@']).map(|n| n.parse().unwrap()).collect();
            list.insert(region(n[0], n[1], n[2], 0, 7)).unwrap();
        }
        list
    }

    /// Regions as `list_of` reads them, with `/attrs` when not 0.
    fn show<'a>(regions: impl IntoIterator<Item = &'a Region<u32>>) -> String {
        let show = |r: &Region<u32>| match r.attrs {
            0 => format!("{}+{}@{}", r.start / P, r.pages, r.offset),
            attrs => format!("{}+{}@{}/{attrs}", r.start / P, r.pages, r.offset),
        };
        regions.into_iter().map(show).collect::<Vec<_>>().join(" ")
    }

    /// Runs `regions | unmap start+pages | pieces | regions after`, or the
    /// same with `protect` (which adds 1 to the attributes). An error case
    /// ends with the error instead: it must report no piece, change nothing.
    fn run(case: &str) {
        let parts: Vec<&str> = case.split('|').map(str::trim).collect();
        let (mut list, mut got) = (list_of(parts[0]), Vec::new());
        let (op, range) = parts[1].split_once(' ').unwrap();
        let (start, pages) = range.split_once('+').unwrap();
        let (start, pages) = (start.parse::<u64>().unwrap() * P, pages.parse().unwrap());
        let result = match op {
            "unmap" => list.remove_range(start, pages, |piece| got.push(piece)),
            _ => list.protect(start, pages, |old| old + 1, |piece| got.push(*piece)),
        };
        list.check_invariants();
        let outcome = match result {
            Ok(count) => {
                assert_eq!(count, got.len());
                format!("{} | {}", show(&got), show(list.iter()))
            }
            Err(error) => {
                assert_eq!((&list, got.len()), (&list_of(parts[0]), 0));
                format!("{error:?}")
            }
        };
        assert_eq!(outcome, parts[2..].join(" | "), "{case}");
    }

    #[test]
    fn check_errors_and_const_new() {
        static LIST: List = List::new(P, 0x100 * P);
        assert_eq!(LIST.check(P + 1, 1), Err(Unaligned));
        assert_eq!(LIST.check(P + 1, 0), Err(Unaligned));
        assert_eq!(LIST.check(P, 0), Err(Empty));
        assert_eq!(LIST.check(0xff * P, 1), Ok(0x100 * P));
        for (start, pages) in [(0, 1), (0xff * P, 2), (0x100 * P, 1), (P, u64::MAX / P)] {
            assert_eq!(LIST.check(start, pages), Err(OutOfBounds));
        }
        assert_eq!(LIST.check(P, u64::MAX), Err(OutOfBounds));
        assert_eq!(LIST.check(u64::MAX - (P - 1), 1), Err(OutOfBounds));
        assert_eq!(List::new(0x100 * P, P).check(2 * P, 1), Err(OutOfBounds));
    }

    #[test]
    fn insert_and_find() {
        let mut list = list_of("10+2@0 2+3@100 5+1@50");
        assert_eq!(show(list.iter()), "2+3@100 5+1@50 10+2@0");
        let at = |list: &List, addr| list.find(addr).map(|r| (r.start / P, r.object_page(addr)));
        assert_eq!(at(&list, 2 * P - 1), None);
        assert_eq!(at(&list, 2 * P), Some((2, 100)));
        assert_eq!(at(&list, 5 * P - 1), Some((2, 102)));
        assert_eq!(at(&list, 5 * P), Some((5, 50)));
        assert_eq!(at(&list, 6 * P), None);
        assert_eq!(at(&list, 11 * P + 5), Some((10, 1)));
        assert_eq!((at(&list, 12 * P), at(&list, u64::MAX)), (None, None));
        let before = list.clone();
        for (bad, error) in [
            ((2, 3, 0), Overlap),
            ((1, 2, 0), Overlap),
            ((4, 3, 0), Overlap),
            ((8, 5, 0), Overlap),
            ((11, 1, 0), Overlap),
            ((0, 1, 0), OutOfBounds),
            ((0xff, 2, 0), OutOfBounds),
            ((20, 2, u64::MAX - 1), OutOfBounds),
            ((20, 0, 0), Empty),
        ] {
            let bad = region(bad.0, bad.1, bad.2, 0, 7);
            assert_eq!(list.insert(bad), Err(error), "{bad:?}");
        }
        let unaligned = region(20, 1, 0, 0, 7);
        let unaligned = Region {
            start: unaligned.start + 8,
            ..unaligned
        };
        assert_eq!(list.insert(unaligned), Err(Unaligned));
        assert_eq!(list, before);
        // Adjacent on both sides is fine; then the list is full.
        list.insert(region(6, 4, u64::MAX - 4, 0, 7)).unwrap();
        assert_eq!((list.len(), List::capacity()), (4, 4));
        assert_eq!(list.insert(region(30, 1, 0, 0, 7)), Err(Full));
        assert_eq!(list.insert(region(9, 1, 0, 0, 7)), Err(Overlap));
        list.check_invariants();
    }

    #[test]
    fn unmap_cases() {
        let four = "2+4@0 8+2@20 10+1@30 14+4@40";
        for case in [
            // Head, tail, middle (a split), exact, nothing mapped.
            "10+10@100 | unmap 8+4 | 10+2@100 | 12+8@102",
            "10+10@100 | unmap 18+5 | 18+2@108 | 10+8@100",
            "10+10@100 | unmap 14+1 | 14+1@104 | 10+4@100 15+5@105",
            "10+10@100 | unmap 10+10 | 10+10@100 | ",
            "10+10@100 | unmap 1+9 |  | 10+10@100",
            "10+10@100 | unmap 20+3 |  | 10+10@100",
            // Several regions and holes: trims both ends, removes the middle.
            &format!("{four} | unmap 4+12 | 4+2@2 8+2@20 10+1@30 14+2@40 | 2+2@0 16+2@42"),
            &format!("{four} | unmap 1+32 | {four} | "),
            // A full list can trim, but not split.
            &format!("{four} | unmap 9+2 | 9+1@21 10+1@30 | 2+4@0 8+1@20 14+4@40"),
            &format!("{four} | unmap 14+2 | 14+2@40 | 2+4@0 8+2@20 10+1@30 16+2@42"),
            &format!("{four} | unmap 15+2 | Full"),
            &format!("{four} | unmap 0+1 | OutOfBounds"),
            &format!("{four} | unmap 255+2 | OutOfBounds"),
            &format!("{four} | unmap 3+0 | Empty"),
        ] {
            run(case);
        }
    }

    #[test]
    fn protect_cases() {
        let (three, holes, four) = (
            "2+4@0 6+2@0 8+2@20",
            "2+4@0 6+2@0 10+2@0",
            "2+1@0 4+1@0 6+2@0 8+1@0",
        );
        for case in [
            // Middle (two splits), head, tail, exact.
            "10+10@100 | protect 12+2 | 12+2@102/1 | 10+2@100 12+2@102/1 14+6@104",
            "10+10@100 | protect 10+2 | 10+2@100/1 | 10+2@100/1 12+8@102",
            "10+10@100 | protect 18+2 | 18+2@108/1 | 10+8@100 18+2@108/1",
            "10+10@100 | protect 10+10 | 10+10@100/1 | 10+10@100/1",
            // Across adjacent regions; two splits need two free entries.
            &format!("{three} | protect 3+5 | 3+3@1/1 6+2@0/1 | 2+1@0 3+3@1/1 6+2@0/1 8+2@20"),
            &format!("{three} | protect 2+8 | 2+4@0/1 6+2@0/1 8+2@20/1 | 2+4@0/1 6+2@0/1 8+2@20/1"),
            &format!("{three} | protect 3+6 | Full"),
            // A hole anywhere, or a range starting or ending outside regions.
            &format!("{holes} | protect 1+2 | NotMapped"),
            &format!("{holes} | protect 4+8 | NotMapped"),
            &format!("{holes} | protect 7+4 | NotMapped"),
            &format!("{holes} | protect 8+1 | NotMapped"),
            &format!("{holes} | protect 10+3 | NotMapped"),
            &format!("{holes} | protect 5+0 | Empty"),
            &format!("{holes} | protect 255+2 | OutOfBounds"),
            // A full list takes no split, but protects whole regions.
            &format!("{four} | protect 6+3 | 6+2@0/1 8+1@0/1 | 2+1@0 4+1@0 6+2@0/1 8+1@0/1"),
            &format!("{four} | protect 6+1 | Full"),
            &format!("{four} | protect 7+2 | Full"),
        ] {
            run(case);
        }
    }

    #[test]
    fn check_mapped_finds_holes() {
        let list = list_of("2+4@0 6+2@0 10+2@0");
        assert_eq!(list.check_mapped(2 * P, 6), Ok(8 * P));
        assert_eq!(list.check_mapped(3 * P, 1), Ok(4 * P));
        assert_eq!(list.check_mapped(10 * P, 2), Ok(12 * P));
        for (start, pages) in [(P, 2), (4 * P, 8), (7 * P, 4), (8 * P, 1), (10 * P, 3)] {
            assert_eq!(list.check_mapped(start, pages), Err(NotMapped));
        }
        assert_eq!(list.check_mapped(2 * P + 1, 1), Err(Unaligned));
        assert_eq!(list.check_mapped(2 * P, 0), Err(Empty));
        assert_eq!(list.check_mapped(0xff * P, 2), Err(OutOfBounds));
    }

    #[test]
    fn clear_and_regions_of() {
        let mut list = list_of("8+2@20 2+4@0");
        list.insert(region(20, 1, 0, 0, 9)).unwrap();
        assert_eq!(show(list.regions_of(7)), "2+4@0 8+2@20");
        assert_eq!(show(list.regions_of(9)), "20+1@0");
        let mut cleared = Vec::new();
        list.clear(|region| cleared.push(region));
        assert_eq!(show(&cleared), "2+4@0 8+2@20 20+1@0");
        assert!(list.is_empty());
        list.check_invariants();
    }

    // The model: page -> (object, object page, attrs, first page of its
    // region). The last field tells region boundaries, hence splits and Full.
    type Model = BTreeMap<u64, (u32, u64, u32, u64)>;
    const LO: u64 = 2;
    const HI: u64 = 62;
    const ENTRIES: usize = 8;

    /// The model's pieces of the pages `first..last`, one per region.
    fn pieces(model: &Model, first: u64, last: u64) -> Vec<Region<u32>> {
        let mut out: Vec<Region<u32>> = Vec::new();
        for (&n, &(object, offset, attrs, start)) in model.range(first..last) {
            match out.last_mut() {
                Some(piece) if piece.end() == n * P && model[&(n - 1)].3 == start => {
                    piece.pages += 1;
                }
                _ => out.push(region(n, 1, offset, attrs, object)),
            }
        }
        out
    }

    /// Splits the region holding page `at` there, if it starts before.
    fn split(model: &mut Model, at: u64) {
        for (_, page) in model.range_mut(at..).take_while(|(_, page)| page.3 < at) {
            page.3 = at;
        }
    }

    /// What `check` says, in pages, computed without overflow.
    fn expected_check(start: u64, pages: u64) -> Result<(u64, u64), RegionError> {
        let end = u128::from(start / P) + u128::from(pages);
        match () {
            _ if !start.is_multiple_of(P) => Err(Unaligned),
            _ if pages == 0 => Err(Empty),
            _ if start / P < LO || end > u128::from(HI) => Err(OutOfBounds),
            _ => Ok((start / P, start / P + pages)),
        }
    }

    #[derive(Clone, Debug)]
    enum Step {
        Insert(u64, u64, u64, u32),
        Remove(u64, u64),
        Protect(u64, u64, u32),
        CheckMapped(u64, u64),
        Find(u64),
    }

    fn step() -> impl Strategy<Value = Step> {
        let start = prop_oneof![
            12 => (0u64..66).prop_map(|page| page * P),
            1 => 0u64..66 * P,
            1 => Just(u64::MAX - (P - 1)),
        ];
        let pages = prop_oneof![12 => 0u64..10, 1 => Just(u64::MAX), 1 => Just(u64::MAX / P)];
        let range = (start, pages);
        let offset = prop_oneof![4 => 0u64..1000, 1 => Just(u64::MAX - 5)];
        prop_oneof![
            4 => (range.clone(), offset, 0u32..3)
                .prop_map(|((s, n), offset, object)| Step::Insert(s, n, offset, object)),
            2 => range.clone().prop_map(|(s, n)| Step::Remove(s, n)),
            2 => (range.clone(), 1u32..8).prop_map(|((s, n), flip)| Step::Protect(s, n, flip)),
            1 => range.prop_map(|(s, n)| Step::CheckMapped(s, n)),
            2 => (0u64..66 * P).prop_map(Step::Find),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn matches_a_page_model(steps in proptest::collection::vec(step(), 0..80)) {
            let mut list = RegionList::<u32, ENTRIES>::new(LO * P, HI * P);
            let mut model = Model::new();
            for step in steps {
                let count = model.iter().filter(|(n, page)| page.3 == **n).count();
                let region_of = |page: u64| model.get(&page).map(|page| page.3);
                let mut got = Vec::new();
                match step {
                    Step::Insert(start, pages, offset, object) => {
                        let expected = expected_check(start, pages).and_then(|(first, last)| {
                            match () {
                                _ if offset.checked_add(pages).is_none() => Err(OutOfBounds),
                                _ if model.range(first..last).next().is_some() => Err(Overlap),
                                _ if count == ENTRIES => Err(Full),
                                _ => Ok((first, last)),
                            }
                        });
                        let attrs = object + 10;
                        let result = list.insert(Region { start, pages, offset, attrs, object });
                        prop_assert_eq!(result, expected.map(|_| ()));
                        for n in expected.map_or(0..0, |(first, last)| first..last) {
                            model.insert(n, (object, offset + (n - start / P), attrs, start / P));
                        }
                    }
                    Step::Remove(start, pages) => {
                        let expected = expected_check(start, pages).and_then(|(first, last)| {
                            // One region around the range: it needs a split.
                            let around = region_of(first - 1);
                            let split = around.is_some() && around == region_of(last);
                            if split && count == ENTRIES { Err(Full) } else { Ok((first, last)) }
                        });
                        let result = list.remove_range(start, pages, |piece| got.push(piece));
                        prop_assert_eq!(result, expected.map(|_| got.len()));
                        prop_assert!(result.is_ok() || got.is_empty());
                        if let Ok((first, last)) = expected {
                            prop_assert_eq!(&got, &pieces(&model, first, last));
                            split(&mut model, last);
                            model.retain(|n, _| !(first..last).contains(n));
                        }
                    }
                    Step::Protect(start, pages, flip) => {
                        let expected = expected_check(start, pages).and_then(|(first, last)| {
                            if (first..last).any(|n| region_of(n).is_none()) {
                                return Err(NotMapped);
                            }
                            let head = region_of(first - 1) == region_of(first);
                            let tail = region_of(last) == region_of(last - 1);
                            let needed = usize::from(head) + usize::from(tail);
                            if count + needed > ENTRIES { Err(Full) } else { Ok((first, last)) }
                        });
                        let result = list.protect(start, pages, |a| a ^ flip, |r| got.push(*r));
                        prop_assert_eq!(result, expected.map(|_| got.len()));
                        prop_assert!(result.is_ok() || got.is_empty());
                        if let Ok((first, last)) = expected {
                            split(&mut model, first);
                            split(&mut model, last);
                            model.range_mut(first..last).for_each(|(_, page)| page.2 ^= flip);
                            prop_assert_eq!(&got, &pieces(&model, first, last));
                        }
                    }
                    Step::CheckMapped(start, pages) => {
                        let expected = expected_check(start, pages).and_then(|(first, last)| {
                            if (first..last).any(|n| region_of(n).is_none()) {
                                Err(NotMapped)
                            } else {
                                Ok(last * P)
                            }
                        });
                        prop_assert_eq!(list.check_mapped(start, pages), expected);
                    }
                    Step::Find(addr) => {
                        let found = list.find(addr);
                        prop_assert!(found.is_none_or(|r| r.contains(addr)));
                        let page = found.map(|r| (r.object, r.object_page(addr), r.attrs, r.start));
                        let expected = model.get(&(addr / P)).map(|p| (p.0, p.1, p.2, p.3 * P));
                        prop_assert_eq!(page, expected);
                    }
                }
                // Every page shows what the model says, in the same region.
                list.check_invariants();
                let mut view = Model::new();
                for r in list.iter() {
                    let first = r.start / P;
                    for n in 0..r.pages {
                        view.insert(first + n, (r.object, r.offset + n, r.attrs, first));
                    }
                }
                prop_assert_eq!(&view, &model);
            }
        }
    }
}
