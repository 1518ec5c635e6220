//! The block-level walk over an archive: from one member's first header to
//! the next's, folding GNU long-name records, pax extended headers and GNU
//! sparse extension blocks into the member they describe.
//!
//! [`Reader::next_member`] returns one [`Member`]: the header block, the
//! path and link target after every override, the data range, and the
//! extended attributes. It decides nothing about what the member *is*
//! (that is [`super::entry`]); it only has to land exactly on the next
//! header, whatever the member holds, so that one odd member never costs
//! the ones after it.
//!
//! # Typeflags read here
//!
//! | typeflag    | meaning                                 | handled as                            |
//! |-------------|-----------------------------------------|---------------------------------------|
//! | `x`, `X`    | pax (Solaris `X`) extended header       | records for the next member           |
//! | `g`         | pax global header                       | records for all later members         |
//! | `L`         | GNU long name                           | the next member's path                |
//! | `K`         | GNU long link name                      | the next member's link target         |
//! | `S`         | GNU sparse file                         | extension blocks skipped (below)      |
//! | `5`         | directory                               | has no data, whatever its size says   |
//! | anything else | a member                              | `size` bytes of data follow           |
//!
//! Which path wins: pax `GNU.sparse.name`, then pax `path`, then an `L`
//! record, then `prefix/name` (`prefix` only in POSIX headers). The link
//! target: pax `linkpath`, then a `K` record, then `linkname`. The data
//! length: pax `size`, then the header's `size`. An `L` or `K` record holds
//! the name and a NUL; the name ends at the first NUL.
//!
//! A directory (`5`) never has data: GNU tar does not skip any for one, so
//! neither does this reader, and both list the same members.
//!
//! A GNU sparse (`S`) header keeps four map entries itself and sets its
//! `isextended` byte when more follow, in 512-byte extension blocks of 21
//! entries each, chained by their own `isextended` byte. Those blocks come
//! after the header and before the data, and `size` counts only the data
//! stored (not the holes, not the extension blocks).
//!
//! # Ends and errors
//!
//! The archive ends at the first all-zero block, at the end of the input,
//! or at a partial block of zeros. A partial non-zero block or data that
//! runs past the end is [`TarError::Truncated`]; a bad checksum or an
//! unreadable `size` is [`TarError::BadHeader`]. Extended headers left with
//! no member after them at the end are ignored.

use super::TarError;
use super::header::{self, BLOCK_BYTES, Block, Header, until_nul};
use super::path::Path;
use super::pax::{Attributes, Scope};

/// One member with everything that described it folded in.
#[derive(Debug, Clone, Copy)]
pub struct Member<'a> {
    /// Offset of the member's first block (its first extended header, if
    /// it has any).
    pub start: usize,
    /// The member's own header.
    pub header: Header<'a>,
    /// The path (see the module documentation for which wins).
    pub path: Path<'a>,
    /// The link target, raw.
    pub link: &'a [u8],
    /// Offset of the data in the archive.
    pub data_offset: usize,
    /// The data, `size` bytes.
    pub data: &'a [u8],
    /// Extended attributes for this member, the global ones folded in.
    pub attributes: Attributes<'a>,
}

/// Walks the members of an archive.
#[derive(Debug, Clone)]
pub struct Reader<'a> {
    /// The whole archive.
    archive: &'a [u8],
    /// Offset of the next block to read; at most `archive.len()`.
    offset: usize,
    /// Attributes from global (`g`) headers read so far.
    global: Attributes<'a>,
}

impl<'a> Reader<'a> {
    /// A reader at the start of `archive`.
    pub fn new(archive: &'a [u8]) -> Self {
        Self {
            archive,
            offset: 0,
            global: Attributes::default(),
        }
    }

    /// The next member, or `Ok(None)` at the end of the archive.
    ///
    /// # Errors
    ///
    /// [`TarError::Truncated`] or [`TarError::BadHeader`] as described in
    /// the module documentation; the reader must not be used after one.
    pub fn next_member(&mut self) -> Result<Option<Member<'a>>, TarError> {
        let start = self.offset;
        let mut local = Attributes::default();
        let mut long_name: Option<&'a [u8]> = None;
        let mut long_link: Option<&'a [u8]> = None;
        loop {
            let Some(block) = self.read_block()? else {
                return Ok(None);
            };
            let header = Header::new(block);
            if !header.checksum_ok() {
                return Err(TarError::BadHeader);
            }
            let typeflag = header.typeflag();
            let is_metadata = matches!(typeflag, b'x' | b'X' | b'g' | b'L' | b'K');
            let mut data_offset = self.offset;
            if typeflag == b'S' && header.gnu_is_extended() {
                data_offset = self.skip_sparse_extensions()?;
            }
            let size = match (is_metadata, local.size) {
                (false, _) if typeflag == b'5' => 0,
                (false, Some(size)) => size,
                _ => header.size().ok_or(TarError::BadHeader)?,
            };
            let data = self.take_data(data_offset, size)?;
            match typeflag {
                b'x' | b'X' => local.apply(data, Scope::Member),
                b'g' => self.global.apply(data, Scope::Global),
                b'L' => long_name = Some(until_nul(data)),
                b'K' => long_link = Some(until_nul(data)),
                _ => {
                    let header_path = Path::joined(header.prefix(), header.name());
                    let path = local
                        .sparse_name
                        .or(local.path)
                        .or(long_name)
                        .map_or(header_path, Path::new);
                    let link = local
                        .link_path
                        .or(long_link)
                        .unwrap_or_else(|| header.link_name());
                    return Ok(Some(Member {
                        start,
                        header,
                        path,
                        link,
                        data_offset,
                        data,
                        attributes: local.over(&self.global),
                    }));
                }
            }
        }
    }

    /// Reads the header block at `self.offset` and moves past it, or
    /// `Ok(None)` at the end of the archive.
    fn read_block(&mut self) -> Result<Option<&'a Block>, TarError> {
        let rest = self.archive.get(self.offset..).unwrap_or(&[]);
        let Some(block) = rest.first_chunk::<BLOCK_BYTES>() else {
            // A partial block: harmless zero padding, or a cut-off header.
            return if header::is_zero(rest) {
                Ok(None)
            } else {
                Err(TarError::Truncated)
            };
        };
        if header::is_zero(block) {
            return Ok(None);
        }
        self.offset = self
            .offset
            .checked_add(BLOCK_BYTES)
            .ok_or(TarError::Truncated)?;
        Ok(Some(block))
    }

    /// Moves past the chain of GNU sparse extension blocks that starts at
    /// `self.offset` and returns the offset after it.
    fn skip_sparse_extensions(&mut self) -> Result<usize, TarError> {
        loop {
            let block = self
                .archive
                .get(self.offset..)
                .and_then(<[u8]>::first_chunk::<BLOCK_BYTES>)
                .ok_or(TarError::Truncated)?;
            self.offset = self
                .offset
                .checked_add(BLOCK_BYTES)
                .ok_or(TarError::Truncated)?;
            if !header::gnu_extension_is_extended(block) {
                return Ok(self.offset);
            }
        }
    }

    /// The `size` bytes at `data_offset`; moves past them and their
    /// padding. The padding after the last member may be missing: then the
    /// next read finds the end of the input.
    fn take_data(&mut self, data_offset: usize, size: u64) -> Result<&'a [u8], TarError> {
        // A size that does not fit a usize cannot fit in the archive.
        let size = usize::try_from(size).map_err(|_| TarError::Truncated)?;
        let end = data_offset.checked_add(size).ok_or(TarError::Truncated)?;
        let data = self
            .archive
            .get(data_offset..end)
            .ok_or(TarError::Truncated)?;
        let padded = size
            .checked_next_multiple_of(BLOCK_BYTES)
            .ok_or(TarError::Truncated)?;
        self.offset = data_offset
            .checked_add(padded)
            .map_or(self.archive.len(), |next| next.min(self.archive.len()));
        Ok(data)
    }
}
