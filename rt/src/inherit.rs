//! The capabilities a process hands on: open files, recorded by the file
//! API as they are opened and forgotten as they close, so that `exit` can
//! close them (their servers then see every end: a pipe's last writer, a
//! session's open count) and `fork` can give the child its own.

use core::sync::atomic::{AtomicU64, Ordering};

use abi::CapSlot;

/// One bit per slot of the largest capability space.
const WORDS: usize = (abi::syscall::CSPACE_MAX_SLOTS as usize).div_ceil(64);

static SLOTS: [AtomicU64; WORDS] = [const { AtomicU64::new(0) }; WORDS];
static AT_EXIT: AtomicU64 = AtomicU64::new(0);

fn bit(slot: CapSlot) -> Option<(&'static AtomicU64, u64)> {
    let index = slot.0 as usize;
    Some((SLOTS.get(index / 64)?, 1 << (index % 64)))
}

/// Records `slot` as an open file.
pub fn mark(slot: CapSlot) {
    if let Some((word, mask)) = bit(slot) {
        word.fetch_or(mask, Ordering::AcqRel);
    }
}

/// Forgets `slot`.
pub fn unmark(slot: CapSlot) {
    if let Some((word, mask)) = bit(slot) {
        word.fetch_and(!mask, Ordering::AcqRel);
    }
}

/// Calls `f` with every recorded slot, lowest first.
pub fn for_each(mut f: impl FnMut(CapSlot)) {
    for (i, word) in SLOTS.iter().enumerate() {
        let mut bits = word.load(Ordering::Acquire);
        while bits != 0 {
            let low = bits.trailing_zeros();
            bits &= bits - 1;
            f(CapSlot((i * 64) as u32 + low));
        }
    }
}

/// Sets what `exit` runs before it reports (the file API closes the
/// recorded files). It must not take locks another thread may hold.
pub fn set_at_exit(hook: fn()) {
    AT_EXIT.store(hook as usize as u64, Ordering::Release);
}

/// Runs the exit hook, once.
pub(crate) fn run_at_exit() {
    let hook = AT_EXIT.swap(0, Ordering::AcqRel);
    if hook != 0 {
        // SAFETY: the only non-zero value ever stored is a `fn()` cast by
        // `set_at_exit`.
        let hook: fn() = unsafe { core::mem::transmute::<usize, fn()>(hook as usize) };
        hook();
    }
}
