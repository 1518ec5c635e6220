//! [`InitialStack`]: the System V x86_64 initial process stack.
//!
//! Reference: System V x86-64 psABI, section 3.4.1 ("Initial Stack and
//! Register State") and figure 3.9. At the entry point `%rsp` is 16-byte
//! aligned and points at `argc`; above it, in 8-byte words:
//!
//! ```text
//!   rsp ->  argc
//!           argv[0] .. argv[argc - 1]   pointers to the argument strings
//!           0
//!           envp[0] .. envp[envc - 1]   pointers to the environment strings
//!           0
//!           auxv: (type, value) pairs   AT_PHDR (when known), AT_PHENT,
//!                                       AT_PHNUM, AT_PAGESZ, AT_ENTRY,
//!                                       AT_RANDOM, the caller's extra pairs,
//!           (AT_NULL, 0)                and the end marker
//!           zero padding                up to the strings
//!           argument strings, then environment strings, each NUL-terminated
//!           16 random bytes             AT_RANDOM points here
//!   stack_top (exclusive)
//! ```
//!
//! Everything from `%rsp` up to `stack_top` is written, padding included, so
//! nothing the buffer held before shows through. Bytes below `%rsp` are left
//! alone.

use abi::layout::PAGE_BYTES;

use crate::format::{AT_ENTRY, AT_NULL, AT_PAGESZ, AT_PHDR, AT_PHENT, AT_PHNUM, AT_RANDOM};
use crate::{Image, SetupError};

/// Number of random bytes `AT_RANDOM` points at.
pub const RANDOM_BYTES: usize = 16;

/// Bytes in one stack word.
const WORD_BYTES: u64 = 8;
/// Alignment of `%rsp` at the entry point.
const ENTRY_ALIGN: u64 = 16;

/// One auxiliary vector entry: a type (`AT_*`) and its value.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AuxEntry {
    /// The `AT_*` type.
    pub kind: u64,
    /// Its value.
    pub value: u64,
}

/// What the new program is given on its stack.
#[derive(Clone, Copy, Debug, Default)]
pub struct InitialStack<'a> {
    /// The arguments (`argv`), without NUL terminators; `args[0]` is by
    /// convention the program's name.
    pub args: &'a [&'a [u8]],
    /// The environment (`envp`), usually `NAME=value`, without NUL
    /// terminators.
    pub env: &'a [&'a [u8]],
    /// The bytes `AT_RANDOM` points at (the program seeds its stack canary
    /// and hash tables from them).
    pub random: [u8; RANDOM_BYTES],
    /// Auxiliary vector entries added after the standard ones, before
    /// `AT_NULL` (Mica's runtime adds the address of its startup page).
    pub extra_aux: &'a [AuxEntry],
}

impl InitialStack<'_> {
    /// Lays out the initial stack of `image` in `stack`, the top
    /// `stack.len()` bytes of a stack that ends (exclusive) at `stack_top`.
    /// Returns the initial `%rsp`: 16-byte aligned, pointing at `argc`.
    ///
    /// # Errors
    ///
    /// [`SetupError::NulInString`] if an argument or environment string
    /// holds a NUL byte, [`SetupError::ReservedAuxType`] if an extra
    /// auxiliary entry uses a type written here, [`SetupError::BadAddress`]
    /// if `stack_top` is below `stack.len()`, and
    /// [`SetupError::BufferTooSmall`] if the stack does not fit.
    pub fn write(
        &self,
        image: &Image,
        stack: &mut [u8],
        stack_top: u64,
    ) -> Result<u64, SetupError> {
        let strings = self.args.iter().chain(self.env.iter());
        if strings.clone().any(|string| string.contains(&0)) {
            return Err(SetupError::NulInString);
        }
        let reserved = [
            AT_NULL, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_ENTRY, AT_RANDOM,
        ];
        if self
            .extra_aux
            .iter()
            .any(|aux| reserved.contains(&aux.kind))
        {
            return Err(SetupError::ReservedAuxType);
        }
        let too_small = SetupError::BufferTooSmall;
        let stack_len = u64::try_from(stack.len()).map_err(|_| SetupError::BadAddress)?;
        let bottom = stack_top
            .checked_sub(stack_len)
            .ok_or(SetupError::BadAddress)?;

        // Addresses, from the top down.
        let random_addr = stack_top
            .checked_sub(RANDOM_BYTES as u64)
            .ok_or(too_small)?;
        let strings_bytes = strings.clone().try_fold(0u64, |sum, string| {
            let len = u64::try_from(string.len()).ok()?;
            sum.checked_add(len)?.checked_add(1)
        });
        let strings_addr = strings_bytes
            .and_then(|bytes| random_addr.checked_sub(bytes))
            .ok_or(too_small)?;
        let aux = self.aux_entries(image, random_addr);
        let words = count(self.args.len())
            .zip(count(self.env.len()))
            .zip(count(aux.clone().count()))
            .and_then(|((argc, envc), auxc)| {
                // argc, argv and its NULL, envp and its NULL, auxv pairs.
                argc.checked_add(envc)?
                    .checked_add(3)?
                    .checked_add(auxc.checked_mul(2)?)
            })
            .ok_or(too_small)?;
        let vector_bytes = words.checked_mul(WORD_BYTES).ok_or(too_small)?;
        let rsp = strings_addr
            .checked_sub(vector_bytes)
            .map(|addr| addr & !(ENTRY_ALIGN - 1))
            .filter(|&addr| addr >= bottom)
            .ok_or(too_small)?;

        let mut out = Writer {
            stack,
            bottom,
            cursor: rsp,
        };
        out.zero_to_top()?;

        // The vector, upwards from rsp.
        out.word(count(self.args.len()).ok_or(too_small)?)?;
        let mut string_addr = strings_addr;
        for list in [self.args, self.env] {
            for string in list {
                out.word(string_addr)?;
                string_addr = u64::try_from(string.len())
                    .ok()
                    .and_then(|len| string_addr.checked_add(len)?.checked_add(1))
                    .ok_or(too_small)?;
            }
            out.word(0)?;
        }
        for entry in aux {
            out.word(entry.kind)?;
            out.word(entry.value)?;
        }

        // The strings (their NULs are already there), then the random bytes.
        out.cursor = strings_addr;
        for string in strings {
            out.bytes(string)?;
            out.cursor = out.cursor.checked_add(1).ok_or(too_small)?;
        }
        out.bytes(&self.random)?;
        Ok(rsp)
    }

    /// The auxiliary vector, ending with `AT_NULL`.
    fn aux_entries(
        &self,
        image: &Image,
        random_addr: u64,
    ) -> impl Iterator<Item = AuxEntry> + Clone + '_ {
        let entry = |kind, value| AuxEntry { kind, value };
        let phdr = image.phdr().map(|addr| entry(AT_PHDR, addr));
        let standard = [
            entry(AT_PHENT, u64::from(image.phentsize())),
            entry(AT_PHNUM, u64::from(image.phnum())),
            entry(AT_PAGESZ, PAGE_BYTES),
            entry(AT_ENTRY, image.entry()),
            entry(AT_RANDOM, random_addr),
        ];
        phdr.into_iter()
            .chain(standard)
            .chain(self.extra_aux.iter().copied())
            .chain([entry(AT_NULL, 0)])
    }
}

/// `n` as a `u64`.
fn count(n: usize) -> Option<u64> {
    u64::try_from(n).ok()
}

/// Writes at stack addresses into the buffer that holds
/// `[bottom, bottom + stack.len())`.
struct Writer<'a> {
    /// The buffer.
    stack: &'a mut [u8],
    /// Address of `stack[0]`.
    bottom: u64,
    /// Where the next write goes.
    cursor: u64,
}

impl Writer<'_> {
    /// The buffer from `addr` on.
    fn tail_from(&mut self, addr: u64) -> Result<&mut [u8], SetupError> {
        let index = addr
            .checked_sub(self.bottom)
            .and_then(|offset| usize::try_from(offset).ok())
            .ok_or(SetupError::BufferTooSmall)?;
        self.stack
            .get_mut(index..)
            .ok_or(SetupError::BufferTooSmall)
    }

    /// Zeroes the buffer from the cursor to its end.
    fn zero_to_top(&mut self) -> Result<(), SetupError> {
        self.tail_from(self.cursor)?.fill(0);
        Ok(())
    }

    /// Writes `bytes` at the cursor and moves past them.
    fn bytes(&mut self, bytes: &[u8]) -> Result<(), SetupError> {
        self.tail_from(self.cursor)?
            .get_mut(..bytes.len())
            .ok_or(SetupError::BufferTooSmall)?
            .copy_from_slice(bytes);
        let len = u64::try_from(bytes.len()).map_err(|_| SetupError::BufferTooSmall)?;
        self.cursor = self
            .cursor
            .checked_add(len)
            .ok_or(SetupError::BufferTooSmall)?;
        Ok(())
    }

    /// Writes one little-endian word at the cursor and moves past it.
    fn word(&mut self, value: u64) -> Result<(), SetupError> {
        self.bytes(&value.to_le_bytes())
    }
}
