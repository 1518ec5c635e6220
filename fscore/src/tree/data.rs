//! The contents of a ramfs file: sparse pages of [`PAGE_BYTES`] in a
//! `BTreeMap` keyed by page number.
//!
//! A hole (a page never written, or past a truncation) holds no memory and
//! reads as zeros; writing far past the end allocates only the pages
//! written; truncating drops whole pages without touching the rest.
//!
//! # Invariants
//!
//! - No page lies wholly at or past `size`: page `p` exists only if
//!   `p * PAGE_BYTES < size`.
//! - Every byte of a page at or past `size` is zero, so growing the file
//!   (a write past the end, an extending truncate) shows zeros there.
//! - Each page was charged [`PAGE_BYTES`] to its `payer`, and is
//!   uncharged to the same owner when dropped.
//!
//! A page's bytes may be shared ([`FileData::spans`]): a server that
//! hands them to the kernel to copy into a client after it let go of the
//! tree keeps them alive that way, whatever happens to the file meanwhile.
//! A write into a page someone still holds copies it first
//! (`Arc::make_mut`), so the holder's bytes never change under it.

use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;

use super::account::{Accounts, PAGE_BYTES};
use crate::FsError;

/// [`PAGE_BYTES`] as a `usize`, for indexing.
const PAGE: usize = PAGE_BYTES as usize;

/// The bytes of one page, page-aligned: a page of the program's memory
/// (Mica's heap hands such allocations out whole, `rt::heap::Heap`), so
/// that the kernel copies it in one run (`read_bytes`).
#[derive(Clone, Debug)]
#[repr(C, align(4096))]
pub struct PageBytes(pub [u8; PAGE]);

const _: () = assert!(core::mem::size_of::<PageBytes>() == PAGE);

/// A shared page: the count of [`Arc`], the page itself in an allocation
/// of its own (an `Arc` of an aligned page would put the counts in a
/// page of their own before it).
pub type SharedPage = Arc<Box<PageBytes>>;

/// One page of data and who paid for it.
#[derive(Debug)]
struct Page {
    bytes: SharedPage,
    payer: u64,
}

/// A fresh page of zeros.
fn zero_page() -> SharedPage {
    Arc::new(Box::new(PageBytes([0; PAGE])))
}

/// A piece of a file's bytes ([`FileData::spans`]): `len` bytes from
/// `start` of a page, or of zeros for a hole.
#[derive(Clone, Debug)]
pub struct Span {
    /// The page, or `None` for a hole.
    pub page: Option<SharedPage>,
    /// Where in the page the bytes start.
    pub start: usize,
    /// How many bytes.
    pub len: usize,
}

/// The data of one file.
#[derive(Debug, Default)]
pub(crate) struct FileData {
    size: u64,
    pages: BTreeMap<u64, Page>,
}

/// The page number of `offset`, and the offset within that page.
fn split(offset: u64) -> (u64, usize) {
    (offset / PAGE_BYTES, (offset % PAGE_BYTES) as usize)
}

impl FileData {
    /// The length in bytes.
    pub(crate) fn size(&self) -> u64 {
        self.size
    }

    /// The number of pages held.
    pub(crate) fn pages(&self) -> u64 {
        self.pages.len() as u64
    }

    /// The bytes charged to each payer, for the invariant checks.
    #[cfg(test)]
    pub(crate) fn payers(&self) -> impl Iterator<Item = u64> + '_ {
        self.pages.values().map(|page| page.payer)
    }

    /// Walks the bytes from `offset`, at most `max` of them in at most
    /// `limit` pieces (a page's piece each), calling `visit(page, start,
    /// len)` for each in order (`None` for a hole); returns how many bytes
    /// (0 at or past the end).
    fn walk(
        &self,
        offset: u64,
        max: usize,
        limit: usize,
        mut visit: impl FnMut(Option<&Page>, usize, usize),
    ) -> usize {
        let available = self.size.saturating_sub(offset);
        let count = usize::try_from(available).map_or(max, |left| left.min(max));
        let mut done = 0;
        for _ in 0..limit {
            if done >= count {
                break;
            }
            // `offset + done <= size`, so the sum does not overflow.
            let (page, within) = split(offset + done as u64);
            let len = (PAGE - within).min(count - done);
            visit(self.pages.get(&page), within, len);
            done += len;
        }
        done
    }

    /// Copies the bytes from `offset` into `out`; returns how many (0 at or
    /// past the end).
    pub(crate) fn read(&self, offset: u64, out: &mut [u8]) -> usize {
        let mut done = 0;
        self.walk(offset, out.len(), usize::MAX, |page, within, len| {
            let dest = &mut out[done..done + len];
            match page {
                Some(page) => dest.copy_from_slice(&page.bytes.0[within..within + len]),
                None => dest.fill(0),
            }
            done += len;
        })
    }

    /// Hands the bytes from `offset`, at most `max`, to `sink` a page's
    /// piece at a time, in order, straight from the pages (holes as
    /// zeros); returns how many (0 at or past the end). For a reader that
    /// copies them somewhere `read` cannot write (shared memory).
    pub(crate) fn read_with(&self, offset: u64, max: usize, mut sink: impl FnMut(&[u8])) -> usize {
        static ZEROS: [u8; PAGE] = [0; PAGE];
        self.walk(offset, max, usize::MAX, |page, within, len| match page {
            Some(page) => sink(&page.bytes.0[within..within + len]),
            None => sink(&ZEROS[..len]),
        })
    }

    /// The bytes from `offset`, at most `max` of them in at most `pieces`
    /// spans (a page's piece each, holes as spans without a page), handed
    /// to `sink` in order; returns how many bytes (0 at or past the end).
    /// The spans share the pages: they stay as they are while held.
    pub(crate) fn spans(
        &self,
        offset: u64,
        max: usize,
        pieces: usize,
        mut sink: impl FnMut(Span),
    ) -> usize {
        self.walk(offset, max, pieces, |page, start, len| {
            sink(Span {
                page: page.map(|page| Arc::clone(&page.bytes)),
                start,
                len,
            });
        })
    }

    /// Writes `data` at `offset`, growing the file and filling holes with
    /// zeros; returns how many bytes were written.
    ///
    /// Each page the write needs and the file lacks is charged to `owner`
    /// first. The write stops at the first page that cannot be charged, or
    /// at `max_size`: it is short (POSIX allows a short write when space
    /// runs out), and it fails only if it could not write a single byte.
    ///
    /// # Errors
    /// [`FsError::FileTooLarge`] if `offset` is at or past `max_size` (and
    /// `data` is not empty); [`FsError::NoSpace`] if the first page it
    /// needs cannot be charged. Either way nothing changed.
    pub(crate) fn write(
        &mut self,
        offset: u64,
        data: &[u8],
        owner: u64,
        accounts: &mut Accounts,
        max_size: u64,
    ) -> Result<usize, FsError> {
        if data.is_empty() {
            return Ok(0);
        }
        if offset >= max_size {
            return Err(FsError::FileTooLarge);
        }
        let room = usize::try_from(max_size - offset).unwrap_or(usize::MAX);
        let count = data.len().min(room);
        let mut done = 0;
        while done < count {
            // `offset + done < max_size`: no overflow.
            let (page_number, within) = split(offset + done as u64);
            let chunk = (PAGE - within).min(count - done);
            let page = match self.pages.entry(page_number) {
                alloc::collections::btree_map::Entry::Occupied(page) => page.into_mut(),
                alloc::collections::btree_map::Entry::Vacant(slot) => {
                    if accounts.charge(owner, PAGE_BYTES, 0).is_err() {
                        break;
                    }
                    slot.insert(Page {
                        bytes: zero_page(),
                        payer: owner,
                    })
                }
            };
            Arc::make_mut(&mut page.bytes).0[within..within + chunk]
                .copy_from_slice(&data[done..done + chunk]);
            done += chunk;
        }
        if done == 0 {
            return Err(FsError::NoSpace);
        }
        self.size = self.size.max(offset + done as u64);
        Ok(done)
    }

    /// Sets the length to `len`: shrinking frees the pages past it (their
    /// charges go back to their payers) and zeroes the rest of the last
    /// page; growing adds a hole, which holds no memory.
    ///
    /// # Errors
    /// [`FsError::FileTooLarge`] if `len` is past `max_size`; nothing
    /// changed.
    pub(crate) fn truncate(
        &mut self,
        len: u64,
        accounts: &mut Accounts,
        max_size: u64,
    ) -> Result<(), FsError> {
        if len > max_size {
            return Err(FsError::FileTooLarge);
        }
        if len < self.size {
            let (last, within) = split(len);
            // Pages from `keep` on lie wholly past the new end.
            let keep = if within == 0 { last } else { last + 1 };
            for (_, page) in self.pages.split_off(&keep) {
                accounts.uncharge(page.payer, PAGE_BYTES, 0);
            }
            if within != 0
                && let Some(page) = self.pages.get_mut(&last)
            {
                Arc::make_mut(&mut page.bytes).0[within..].fill(0);
            }
        }
        self.size = len;
        Ok(())
    }

    /// Frees every page, giving the charges back.
    pub(crate) fn free(self, accounts: &mut Accounts) {
        for page in self.pages.into_values() {
            accounts.uncharge(page.payer, PAGE_BYTES, 0);
        }
    }
}
