//! `CapCopyMany`'s entries for a worker: written into its page from its
//! pool (sources live or not, destinations plausible or not, rights,
//! types and modes mostly valid), and read back to learn the copies a
//! call made in the worker's own space.

use abi::Rights;
use abi::syscall::{CAP_COPY_ANY_TYPE, CAP_COPY_MANY_MAX, cap_copy_mode};

use super::args;
use super::pool::Pool;
use super::rng::Rng;
use super::worker::Page;

/// Where in the worker's page the entries go (two words each, up to
/// `CAP_COPY_MANY_MAX`), past the `CapInfo` answers.
const INDEX: usize = 320;

/// The address of the entries in `page`.
fn entries_addr(page: &Page) -> u64 {
    page.addr() + (INDEX * 8) as u64
}

/// Writes entries for a call into the space `space` names (0: the
/// worker's own) into `page`; returns their address and count.
pub fn write_entries(rng: &mut Rng, pool: &Pool, page: &Page, space: u64) -> (u64, u64) {
    let count = match rng.below(10) {
        0 => CAP_COPY_MANY_MAX,
        1 => 1 + rng.below(CAP_COPY_MANY_MAX),
        _ => 1 + rng.below(6),
    };
    for i in 0..count as usize {
        let src = if rng.chance(90) {
            args::cap_to_send(rng, pool)
        } else {
            args::invalid_slot(rng)
        };
        // An entry's slots are 32 bits: a drawn slot above that must stay
        // invalid, not wrap to one of the child's own slots.
        let src = u32::try_from(src).unwrap_or(u32::MAX);
        let dst = args::copy_destination(rng, space);
        let rights = args::rights(rng) as u32;
        let object_type = match rng.below(100) {
            0..50 => CAP_COPY_ANY_TYPE,
            50..95 => pool
                .find(u64::from(src))
                .and_then(|e| e.kind)
                .map_or(1 + rng.below(14), |k| k.to_reg()) as u16,
            _ => rng.next() as u16,
        };
        let mode = match rng.below(100) {
            0..40 => cap_copy_mode::EXACT,
            40..80 => cap_copy_mode::MASK,
            80..96 => cap_copy_mode::CHECK,
            _ => rng.next() as u16,
        };
        // A check names no destination (mostly).
        let dst = if mode == cap_copy_mode::CHECK && rng.chance(80) {
            0
        } else {
            dst
        };
        let words = [
            u64::from(src) | u64::from(dst) << 32,
            u64::from(rights) | u64::from(object_type) << 32 | u64::from(mode) << 48,
        ];
        page.set_word(INDEX + 2 * i, words[0]);
        page.set_word(INDEX + 2 * i + 1, words[1]);
    }
    (entries_addr(page), count)
}

/// What a call with `args` that copied the entries `copied` made in the
/// worker's own space, if it was pointed at the page's entries:
/// (destination, source, rights asked) of each entry copied (a check
/// names destination 0, which the pool ignores).
pub fn copies<'a>(
    page: &'a Page,
    args: &[u64; 6],
    copied: u64,
) -> impl Iterator<Item = (u64, u64, Rights)> + 'a {
    let count = if args[0] == 0 && args[1] == entries_addr(page) {
        args[2].min(CAP_COPY_MANY_MAX) as usize
    } else {
        0
    };
    (0..count)
        .filter(move |&i| copied & (1 << i) != 0)
        .map(move |i| {
            let first = page.word(INDEX + 2 * i);
            let second = page.word(INDEX + 2 * i + 1);
            let wanted = Rights::from_bits_truncate(second as u32);
            (first >> 32, first & 0xffff_ffff, wanted)
        })
}
