//! Bytes in memory another program may write at any moment: copies
//! between ordinary bytes and a slice of [`AtomicU64`], 8 bytes a load or
//! a store.
//!
//! Every access is a relaxed 8-byte atomic on an aligned word, so a peer
//! writing the same bytes meanwhile changes the values copied, never the
//! behaviour of this program. A copy is a partial first word, whole words,
//! and a partial last word; a partial word is read whole, and written with
//! two read-modify-writes (`fetch_and`, then `fetch_or`) that leave its
//! other bytes alone, whatever the peer stores there in between (a
//! compare-and-swap loop would let a peer that keeps writing the word
//! hold the copy forever). Byte `i` is byte `i % 8` of word `i / 8`,
//! little-endian.
//!
//! Moving 8 bytes per load and store is what a `memcpy` does on hardware
//! without fast `rep movsb`; under TCG's instruction count a 4 KiB copy is
//! about 1,300 instructions, half a loop of 4-byte words, a third of one
//! `rep movsb` (which counts each byte).
//!
//! The bytes a program copies this way it must not also access with
//! atomics of another size at the same moment (Rust forbids racing
//! accesses of different sizes to overlap): `rt::shared::SharedRegion`
//! gives a ring's indices and entries as 4-byte words and its data area,
//! on other bytes, to these copies.
//!
//! Everything here is safe code: the `unsafe` view of a mapping as
//! `[AtomicU64]` is [`crate::shared::SharedRegion::words64`].

use core::sync::atomic::{AtomicU64, Ordering};

use abi::SysError;

/// Bytes in a word.
const WORD: usize = 8;

/// Bytes moved through the stack at a time when the two sides of a
/// region-to-region copy are not aligned alike.
const BOUNCE: usize = 256;

/// The end of `[offset, offset + len)`, if it lies inside `words`.
#[inline]
fn end_of(words: &[AtomicU64], offset: usize, len: usize) -> Result<usize, SysError> {
    match offset.checked_add(len) {
        // `words.len() * 8` cannot overflow: the slice is in memory.
        Some(end) if end <= words.len() * WORD => Ok(end),
        _ => Err(SysError::InvalidArg),
    }
}

/// How many of `len` bytes from `offset` lie before the next word
/// boundary.
#[inline]
fn head_len(offset: usize, len: usize) -> usize {
    ((WORD - offset % WORD) % WORD).min(len)
}

/// Copies `out.len()` (< 8, inside one word) bytes at `offset`.
#[inline]
fn read_partial(words: &[AtomicU64], offset: usize, out: &mut [u8]) {
    if out.is_empty() {
        return;
    }
    let within = offset % WORD;
    let bytes = words[offset / WORD].load(Ordering::Relaxed).to_le_bytes();
    out.copy_from_slice(&bytes[within..within + out.len()]);
}

/// Stores `bytes` (< 8, inside one word) at `offset`, keeping the word's
/// other bytes.
#[inline]
fn write_partial(words: &[AtomicU64], offset: usize, bytes: &[u8]) {
    let n = bytes.len();
    if n == 0 {
        return;
    }
    let within = offset % WORD;
    let mut value = [0u8; WORD];
    value[within..within + n].copy_from_slice(bytes);
    let value = u64::from_le_bytes(value);
    // `n` is 1 to 7: the shift is below 64.
    let mask = (u64::MAX >> (64 - 8 * n as u32)) << (8 * within as u32);
    let word = &words[offset / WORD];
    word.fetch_and(!mask, Ordering::Relaxed);
    word.fetch_or(value, Ordering::Relaxed);
}

/// Copies `out.len()` bytes from byte `offset` of `words` into `out`
/// (relaxed loads: whatever orders them against the peer's stores, an
/// index loaded with `Acquire` or a reply, comes before).
///
/// # Errors
/// `InvalidArg` if `offset + out.len()` overflows or passes the end of
/// `words`; nothing is copied then.
#[inline]
pub fn read(words: &[AtomicU64], offset: usize, out: &mut [u8]) -> Result<(), SysError> {
    let end = end_of(words, offset, out.len())?;
    let (first, rest) = out.split_at_mut(head_len(offset, out.len()));
    read_partial(words, offset, first);
    let middle = offset + first.len();
    let whole = (end - middle) / WORD;
    let (body, last) = rest.split_at_mut(whole * WORD);
    // `middle` is a word boundary here (or nothing is left to copy).
    let source = &words[middle / WORD..middle / WORD + whole];
    for (word, out) in source.iter().zip(body.chunks_exact_mut(WORD)) {
        out.copy_from_slice(&word.load(Ordering::Relaxed).to_le_bytes());
    }
    read_partial(words, middle + whole * WORD, last);
    Ok(())
}

/// Copies `bytes` to byte `offset` of `words` (relaxed stores: whatever
/// publishes them to the peer, an index stored with `Release` or a call,
/// comes after).
///
/// # Errors
/// `InvalidArg` if `offset + bytes.len()` overflows or passes the end of
/// `words`; nothing is copied then.
#[inline]
pub fn write(words: &[AtomicU64], offset: usize, bytes: &[u8]) -> Result<(), SysError> {
    let end = end_of(words, offset, bytes.len())?;
    let (first, rest) = bytes.split_at(head_len(offset, bytes.len()));
    write_partial(words, offset, first);
    let middle = offset + first.len();
    let whole = (end - middle) / WORD;
    let (body, last) = rest.split_at(whole * WORD);
    let target = &words[middle / WORD..middle / WORD + whole];
    for (word, value) in target.iter().zip(body.chunks_exact(WORD)) {
        let mut le = [0u8; WORD];
        le.copy_from_slice(value);
        word.store(u64::from_le_bytes(le), Ordering::Relaxed);
    }
    write_partial(words, middle + whole * WORD, last);
    Ok(())
}

/// Copies `len` bytes from byte `from` of `source` to byte `to` of
/// `target` (one region into another, or into itself: overlapping ranges
/// get whatever a forward copy leaves, and nothing outside them changes).
///
/// # Errors
/// `InvalidArg` if either range overflows or passes its slice's end;
/// nothing is copied then.
pub fn copy(
    source: &[AtomicU64],
    from: usize,
    target: &[AtomicU64],
    to: usize,
    len: usize,
) -> Result<(), SysError> {
    let end = end_of(source, from, len)?;
    end_of(target, to, len)?;
    if from % WORD != to % WORD {
        // Words of one side straddle two of the other: through the stack.
        let mut bounce = [0u8; BOUNCE];
        let mut done = 0;
        while done < len {
            let n = (len - done).min(BOUNCE);
            read(source, from + done, &mut bounce[..n])?;
            write(target, to + done, &bounce[..n])?;
            done += n;
        }
        return Ok(());
    }
    let head = head_len(from, len);
    let mut partial = [0u8; WORD];
    read_partial(source, from, &mut partial[..head]);
    write_partial(target, to, &partial[..head]);
    let (from_word, to_word) = ((from + head) / WORD, (to + head) / WORD);
    let whole = (end - from - head) / WORD;
    let pairs = source[from_word..from_word + whole]
        .iter()
        .zip(&target[to_word..to_word + whole]);
    for (word, into) in pairs {
        into.store(word.load(Ordering::Relaxed), Ordering::Relaxed);
    }
    let tail = len - head - whole * WORD;
    let done = head + whole * WORD;
    read_partial(source, from + done, &mut partial[..tail]);
    write_partial(target, to + done, &partial[..tail]);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(len: usize) -> Vec<AtomicU64> {
        (0..len).map(|_| AtomicU64::new(0)).collect()
    }

    fn fill(words: &[AtomicU64], byte: u8) {
        for word in words {
            word.store(u64::from_le_bytes([byte; 8]), Ordering::Relaxed);
        }
    }

    fn bytes_of(words: &[AtomicU64]) -> Vec<u8> {
        words
            .iter()
            .flat_map(|w| w.load(Ordering::Relaxed).to_le_bytes())
            .collect()
    }

    #[test]
    fn read_and_write_at_every_alignment() {
        let memory = words(8);
        let data: Vec<u8> = (1..=48).collect();
        for offset in 0..16 {
            for len in 0..=40 {
                fill(&memory, 0xee);
                write(&memory, offset, &data[..len]).unwrap();
                for (i, byte) in bytes_of(&memory).iter().enumerate() {
                    let expected = if (offset..offset + len).contains(&i) {
                        data[i - offset]
                    } else {
                        0xee
                    };
                    assert_eq!(*byte, expected, "offset {offset} len {len} byte {i}");
                }
                let mut back = vec![0u8; len];
                read(&memory, offset, &mut back).unwrap();
                assert_eq!(back, &data[..len], "offset {offset} len {len}");
            }
        }
    }

    #[test]
    fn copies_at_every_pair_of_alignments() {
        let (source, target) = (words(8), words(8));
        let data: Vec<u8> = (1..=64).collect();
        write(&source, 0, &data).unwrap();
        for from in 0..16 {
            for to in 0..16 {
                for len in 0..=40 {
                    fill(&target, 0xee);
                    copy(&source, from, &target, to, len).unwrap();
                    for (i, byte) in bytes_of(&target).iter().enumerate() {
                        let expected = if (to..to + len).contains(&i) {
                            data[from + i - to]
                        } else {
                            0xee
                        };
                        assert_eq!(*byte, expected, "from {from} to {to} len {len} byte {i}");
                    }
                }
            }
        }
    }

    #[test]
    fn long_unaligned_copies_go_through_the_stack() {
        let (source, target) = (words(200), words(200));
        let data: Vec<u8> = (0..1600).map(|i| (i * 7 % 251) as u8).collect();
        write(&source, 0, &data).unwrap();
        copy(&source, 3, &target, 10, 1500).unwrap();
        let mut back = vec![0u8; 1500];
        read(&target, 10, &mut back).unwrap();
        assert_eq!(back, &data[3..1503]);
        assert_eq!(bytes_of(&target)[..10], [0; 10]);
        assert_eq!(bytes_of(&target)[1510..], [0; 90]);
    }

    #[test]
    fn a_copy_into_itself_stays_inside_its_ranges() {
        let memory = words(8);
        let data: Vec<u8> = (1..=64).collect();
        write(&memory, 0, &data).unwrap();
        copy(&memory, 0, &memory, 8, 24).unwrap();
        let all = bytes_of(&memory);
        assert_eq!(all[..8], data[..8]);
        assert_eq!(all[32..], data[32..]);
    }

    #[test]
    fn ranges_outside_are_refused_untouched() {
        let memory = words(2);
        fill(&memory, 0x55);
        assert_eq!(write(&memory, 10, &[0; 7]), Err(SysError::InvalidArg));
        assert_eq!(
            write(&memory, usize::MAX, &[0; 2]),
            Err(SysError::InvalidArg)
        );
        assert_eq!(read(&memory, 17, &mut [0; 0]), Err(SysError::InvalidArg));
        assert_eq!(read(&memory, 16, &mut [0; 0]), Ok(()));
        assert_eq!(copy(&memory, 0, &memory, 9, 8), Err(SysError::InvalidArg));
        assert_eq!(copy(&memory, 9, &memory, 0, 8), Err(SysError::InvalidArg));
        assert_eq!(bytes_of(&memory), [0x55; 16]);
    }
}
