//! Property tests of every decoder in `abi` that reads untrusted input: the
//! syscall argument and result registers, syscall numbers, error codes,
//! rights, slots, object types, the flat image header and user ranges.
//!
//! Each decoder is compared with a model written from its documentation, not
//! from its code, and every value it accepts must survive a re-encoding.
//!
//! One module per decoder family: the syscall argument structs (`args`),
//! the result structs (`results`), the single-register values: syscall
//! numbers, error codes, rights, slots, object types and IRQ sources
//! (`registers`), the flat image header (`image`) and user address ranges
//! (`ranges`). This file holds the register strategies they share.

mod args;
mod image;
mod ranges;
mod registers;
mod results;

use abi::syscall::{ArgRegs, RetRegs};
use proptest::prelude::*;

/// Cases per property; every property here is cheap.
const CASES: u32 = 2048;

/// READ | WRITE | GRANT | CONTROL: the bits a rights register may hold.
const KNOWN_RIGHTS: u64 = 0b1111;

/// A register value, biased toward the edges where decoders change their
/// answer (small numbers, 32-bit limits, single bits) since uniform `u64`s
/// almost never name a valid slot or rights mask.
fn reg() -> impl Strategy<Value = u64> {
    let edges = vec![
        0,
        1,
        KNOWN_RIGHTS,
        KNOWN_RIGHTS + 1,
        u64::from(u32::MAX) - 1,
        u64::from(u32::MAX),
        u64::from(u32::MAX) + 1,
        1 << 63,
        u64::MAX - 1,
        u64::MAX,
    ];
    prop_oneof![
        3 => any::<u64>(),
        3 => any::<u32>().prop_map(u64::from),
        3 => 0u64..64,
        1 => (0u32..64).prop_map(|bit| 1u64 << bit),
        1 => proptest::sample::select(edges),
    ]
}

/// Six argument registers, each from [`reg`].
fn arg_regs() -> impl Strategy<Value = ArgRegs> {
    proptest::array::uniform6(reg())
}

/// Six result registers, each from [`reg`].
fn ret_regs() -> impl Strategy<Value = RetRegs> {
    proptest::array::uniform6(reg())
}
