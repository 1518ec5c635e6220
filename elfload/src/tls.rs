//! Thread-local storage: the `PT_TLS` template and the x86_64 "variant II"
//! block built from it for each thread.
//!
//! Reference: Ulrich Drepper, "ELF Handling For Thread-Local Storage",
//! section 3.4.6 (x86-64), and the System V x86-64 psABI. On x86_64 the
//! thread pointer is the FS base. The TLS data of the program sits just
//! *below* it and the thread control block (TCB) starts *at* it; the first
//! word of the TCB holds the thread pointer itself, so that `mov %fs:0, %rax`
//! yields the thread pointer. A static program's code reaches a variable at
//! offset `x` in the template with `%fs:(x - round_up(p_memsz, p_align))`:
//! the linker computes that constant (GNU ld and lld alike), so the data
//! must start exactly `round_up(p_memsz, p_align)` bytes below the thread
//! pointer, and the thread pointer must be aligned to `p_align`.
//!
//! One block per thread, allocated by the runtime at an address aligned to
//! [`TlsLayout::block_align`]:
//!
//! ```text
//! block start                 block + data_offset         thread pointer = block + tp_offset
//! |-- zero padding --|-- .tdata (file bytes) --|-- .tbss (zero) --|-- pad --|-- TCB --------|
//!                    |<--------- round_up(mem_bytes, align) ---------------->|word 0 = tp   |
//!                                                                            |rest zero     |
//! ```
//!
//! `tp_offset` is a multiple of `block_align` (the larger of `p_align` and
//! [`TCB_ALIGN`]) and the TCB is at least [`TCB_MIN_BYTES`] long, rounded up
//! to `block_align`. The caller chooses the TCB size: C code built with
//! `-fstack-protector` reads a canary at `%fs:0x28`, so a TCB for C
//! programs needs 48 bytes or more.

use abi::layout::USER_END;

use crate::{ElfError, SetupError};

/// Smallest TCB: the self-pointer word at the thread pointer.
pub const TCB_MIN_BYTES: u64 = 8;
/// Alignment of the thread pointer and of the block, at least.
pub const TCB_ALIGN: u64 = 16;
/// Largest TCB [`crate::parse`] guarantees room for: [`tls_layout`] of a
/// parsed template succeeds for every `tcb_bytes` up to this.
pub const TCB_MAX_BYTES: u64 = abi::layout::PAGE_BYTES;

/// The initialization image of the thread-local variables, from `PT_TLS`:
/// `file_bytes` bytes at `file_offset` in the file (`.tdata`), followed by
/// zeros up to `mem_bytes` (`.tbss`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct TlsTemplate {
    /// `p_offset`: where the initialized data starts in the file.
    pub file_offset: u64,
    /// `p_filesz`: bytes of initialized data; at most `mem_bytes`.
    pub file_bytes: u64,
    /// `p_memsz`: bytes of thread-local data in all.
    pub mem_bytes: u64,
    /// `p_align`, with 0 given as 1: a power of two.
    pub align: u64,
}

/// Where things go in one thread's TLS block; see the module
/// documentation for the picture.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TlsLayout {
    /// Bytes to allocate for the block; a multiple of `block_align`.
    pub block_bytes: u64,
    /// Alignment the block's address must have; a power of two, at least
    /// [`TCB_ALIGN`].
    pub block_align: u64,
    /// Offset of the template's first byte in the block.
    pub data_offset: u64,
    /// Offset of the thread pointer (the TCB) in the block.
    pub tp_offset: u64,
    /// Bytes from the thread pointer to the end of the block.
    pub tcb_bytes: u64,
    /// The template the layout was made from, if any.
    pub template: Option<TlsTemplate>,
}

/// The block layout for `template` (`None` for a program without
/// `PT_TLS`, which still needs a TCB) and a TCB of `tcb_bytes` (raised to
/// [`TCB_MIN_BYTES`] if smaller).
///
/// # Errors
///
/// [`ElfError::TlsFileSizeExceedsMemSize`] and
/// [`ElfError::TlsBadAlignment`] for a template [`crate::parse`] would
/// have refused, and [`ElfError::TlsTooLarge`] when the block would not fit
/// in the user address space.
pub fn tls_layout(template: Option<&TlsTemplate>, tcb_bytes: u64) -> Result<TlsLayout, ElfError> {
    let (mem_bytes, align) = match template {
        None => (0, 1),
        Some(template) => {
            if template.file_bytes > template.mem_bytes {
                return Err(ElfError::TlsFileSizeExceedsMemSize);
            }
            let align = template.align.max(1);
            if !align.is_power_of_two() {
                return Err(ElfError::TlsBadAlignment);
            }
            (template.mem_bytes, align)
        }
    };
    let block_align = align.max(TCB_ALIGN);
    let tls_bytes = round_up(mem_bytes, align).ok_or(ElfError::TlsTooLarge)?;
    let tp_offset = round_up(tls_bytes, block_align).ok_or(ElfError::TlsTooLarge)?;
    let data_offset = tp_offset
        .checked_sub(tls_bytes)
        .ok_or(ElfError::TlsTooLarge)?;
    let block_bytes = tp_offset
        .checked_add(tcb_bytes.max(TCB_MIN_BYTES))
        .and_then(|end| round_up(end, block_align))
        .filter(|&bytes| bytes <= USER_END)
        .ok_or(ElfError::TlsTooLarge)?;
    let tcb_bytes = block_bytes
        .checked_sub(tp_offset)
        .ok_or(ElfError::TlsTooLarge)?;
    Ok(TlsLayout {
        block_bytes,
        block_align,
        data_offset,
        tp_offset,
        tcb_bytes,
        template: template.copied(),
    })
}

impl TlsLayout {
    /// Fills one thread's block: `block` is the memory at `block_addr` (its
    /// first `block_bytes` bytes are used), `file` the file the template
    /// came from. Writes zeros, the template's file bytes and the TCB's
    /// self-pointer, and returns the thread pointer to load into the FS
    /// base.
    ///
    /// # Errors
    ///
    /// [`SetupError::BufferTooSmall`] if `block` is shorter than
    /// `block_bytes`, [`SetupError::BadAddress`] if `block_addr` is not
    /// aligned to `block_align` or the block would wrap around, and
    /// [`SetupError::TemplateMismatch`] if the template's bytes are not in
    /// `file` or do not fit the layout.
    pub fn write_block(
        &self,
        file: &[u8],
        block: &mut [u8],
        block_addr: u64,
    ) -> Result<u64, SetupError> {
        let block_len =
            usize::try_from(self.block_bytes).map_err(|_| SetupError::BufferTooSmall)?;
        let block = block
            .get_mut(..block_len)
            .ok_or(SetupError::BufferTooSmall)?;
        let misaligned = block_addr & self.block_align.wrapping_sub(1) != 0;
        if misaligned || block_addr.checked_add(self.block_bytes).is_none() {
            return Err(SetupError::BadAddress);
        }
        let tp = block_addr
            .checked_add(self.tp_offset)
            .ok_or(SetupError::BadAddress)?;
        block.fill(0);

        if let Some(template) = self.template {
            let source = slice_at(file, template.file_offset, template.file_bytes)
                .ok_or(SetupError::TemplateMismatch)?;
            let room = self.tp_offset.checked_sub(self.data_offset);
            let fits = room.is_some_and(|room| template.mem_bytes <= room)
                && template.file_bytes <= template.mem_bytes;
            if !fits {
                return Err(SetupError::TemplateMismatch);
            }
            let start =
                usize::try_from(self.data_offset).map_err(|_| SetupError::TemplateMismatch)?;
            let end = start
                .checked_add(source.len())
                .ok_or(SetupError::TemplateMismatch)?;
            block
                .get_mut(start..end)
                .ok_or(SetupError::TemplateMismatch)?
                .copy_from_slice(source);
        }

        let tcb = usize::try_from(self.tp_offset).map_err(|_| SetupError::BufferTooSmall)?;
        block
            .get_mut(tcb..)
            .and_then(|tcb| tcb.first_chunk_mut::<8>())
            .ok_or(SetupError::BufferTooSmall)?
            .copy_from_slice(&tp.to_le_bytes());
        Ok(tp)
    }
}

/// `len` bytes of `bytes` from `offset`, if they are all there.
fn slice_at(bytes: &[u8], offset: u64, len: u64) -> Option<&[u8]> {
    let start = usize::try_from(offset).ok()?;
    let end = start.checked_add(usize::try_from(len).ok()?)?;
    bytes.get(start..end)
}

/// `value` rounded up to a multiple of `align`, a power of two.
fn round_up(value: u64, align: u64) -> Option<u64> {
    let mask = align.checked_sub(1)?;
    Some(value.checked_add(mask)? & !mask)
}
