//! [`random_offset`]: where to put a position-independent program.

use abi::layout::PAGE_BYTES;

/// A page-aligned offset in `[0, max_pages * PAGE_BYTES)` picked by
/// `random` (64 random bits), for a static-pie's load base: the runtime
/// adds it to the lowest base it allows. `max_pages` 0 gives 0, and a
/// `max_pages` whose byte count does not fit in a `u64` is treated as the
/// largest that does.
///
/// The page number is the high half of `random * max_pages` (a 128-bit
/// product), which maps the 2^64 values of `random` onto the pages as
/// evenly as they can be, with no division.
pub fn random_offset(random: u64, max_pages: u64) -> u64 {
    let max_pages = max_pages.min(u64::MAX / PAGE_BYTES);
    let product = u128::from(random).wrapping_mul(u128::from(max_pages));
    let page = u64::try_from(product >> 64).unwrap_or(0);
    page.saturating_mul(PAGE_BYTES)
}
