//! Member paths: borrowed from the archive, cleaned lazily.
//!
//! A path in a tar archive comes in one or two pieces: the ustar `prefix`
//! and `name` fields (joined by a `/`), or one long name from a GNU `L`
//! record or a pax `path` record. [`Path`] keeps the pieces as they are in
//! the archive and cleans them as it walks them, so nothing is copied.
//!
//! # Cleaning
//!
//! [`Path::components`] drops empty components (a leading `/`, a doubled
//! `//`, a trailing `/`) and `.` components; what remains is the path the
//! member has below the root of the archive: `./bin//init/` is `bin/init`,
//! and `./` is the root itself, with no components. A `..` component is
//! left in place: the reader refuses such members rather than guess what
//! they meant (as GNU tar refuses to extract them), so every path an
//! [`super::Entry`] carries is free of `..`.

use core::fmt;
use core::iter::FusedIterator;

/// A member's path, borrowing the archive; compared and shown cleaned.
#[derive(Clone, Copy)]
pub struct Path<'a> {
    /// Leading components (the ustar `prefix`), possibly empty.
    head: &'a [u8],
    /// The rest (the ustar `name`, or a whole long name).
    tail: &'a [u8],
}

impl<'a> Path<'a> {
    /// A path made of one piece.
    pub const fn new(bytes: &'a [u8]) -> Self {
        Self {
            head: &[],
            tail: bytes,
        }
    }

    /// The path `head/tail` (just `tail` when `head` is empty).
    pub const fn joined(head: &'a [u8], tail: &'a [u8]) -> Self {
        Self { head, tail }
    }

    /// The cleaned components, first to last.
    pub fn components(&self) -> Components<'a> {
        Components {
            head: self.head,
            tail: self.tail,
        }
    }

    /// Whether the path is the root of the archive (no components).
    pub fn is_root(&self) -> bool {
        self.components().next().is_none()
    }

    /// Whether any component is `..`.
    pub fn has_parent_component(&self) -> bool {
        self.components().any(|component| component == b"..")
    }

    /// Whether the path as written ends with a `/` (a directory in
    /// archives that have no directory type).
    pub fn has_trailing_slash(&self) -> bool {
        let last = if self.tail.is_empty() {
            self.head
        } else {
            self.tail
        };
        last.last() == Some(&b'/')
    }

    /// The last component, or `None` for the root.
    pub fn file_name(&self) -> Option<&'a [u8]> {
        self.components().next_back()
    }

    /// The path without its last component, or `None` for the root. The
    /// parent of `a` is the root.
    pub fn parent(&self) -> Option<Path<'a>> {
        // What a backward walk leaves after taking the last component is
        // exactly the rest of the path, still in its pieces.
        let mut components = self.components();
        components.next_back()?;
        Some(Path::joined(components.head, components.tail))
    }

    /// The cleaned path's length in bytes (components joined by `/`).
    pub fn len(&self) -> usize {
        self.components().fold(0usize, |len, component| {
            let separator = usize::from(len != 0);
            len.saturating_add(separator)
                .saturating_add(component.len())
        })
    }

    /// Whether the cleaned path is empty (the root).
    pub fn is_empty(&self) -> bool {
        self.is_root()
    }

    /// Whether this path and `other` (cleaned the same way) are equal.
    pub fn matches(&self, other: &str) -> bool {
        self.components()
            .eq(Path::new(other.as_bytes()).components())
    }

    /// Writes the cleaned path into `buffer` and returns it, or `None` if
    /// it does not fit.
    pub fn write_to<'b>(&self, buffer: &'b mut [u8]) -> Option<&'b [u8]> {
        let mut len: usize = 0;
        for component in self.components() {
            if len != 0 {
                *buffer.get_mut(len)? = b'/';
                len = len.checked_add(1)?;
            }
            let end = len.checked_add(component.len())?;
            buffer.get_mut(len..end)?.copy_from_slice(component);
            len = end;
        }
        buffer.get(..len)
    }
}

impl PartialEq for Path<'_> {
    fn eq(&self, other: &Self) -> bool {
        self.components().eq(other.components())
    }
}

impl Eq for Path<'_> {}

impl fmt::Debug for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "\"{self}\"")
    }
}

/// The cleaned path, components joined by `/`, invalid UTF-8 shown as
/// U+FFFD; the root shows as `.`.
impl fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for component in self.components() {
            if !first {
                f.write_str("/")?;
            }
            first = false;
            write_lossy(f, component)?;
        }
        if first {
            f.write_str(".")?;
        }
        Ok(())
    }
}

/// Writes `bytes` as text, each invalid UTF-8 sequence as U+FFFD.
pub fn write_lossy(f: &mut fmt::Formatter<'_>, bytes: &[u8]) -> fmt::Result {
    for chunk in bytes.utf8_chunks() {
        f.write_str(chunk.valid())?;
        if !chunk.invalid().is_empty() {
            f.write_str("\u{fffd}")?;
        }
    }
    Ok(())
}

/// Iterator over a path's cleaned components; see [`Path::components`].
#[derive(Debug, Clone)]
pub struct Components<'a> {
    /// What remains of the head piece.
    head: &'a [u8],
    /// What remains of the tail piece.
    tail: &'a [u8],
}

/// Whether a component is kept by cleaning.
fn is_kept(component: &[u8]) -> bool {
    !component.is_empty() && component != b"."
}

/// Takes the first kept component off the front of `piece`.
fn pop_front<'a>(piece: &mut &'a [u8]) -> Option<&'a [u8]> {
    while !piece.is_empty() {
        let (component, rest) = match piece.iter().position(|byte| *byte == b'/') {
            Some(at) => (piece.get(..at)?, piece.get(at.checked_add(1)?..)?),
            None => (*piece, &[][..]),
        };
        *piece = rest;
        if is_kept(component) {
            return Some(component);
        }
    }
    None
}

/// Takes the last kept component off the back of `piece`.
fn pop_back<'a>(piece: &mut &'a [u8]) -> Option<&'a [u8]> {
    while !piece.is_empty() {
        let (rest, component) = match piece.iter().rposition(|byte| *byte == b'/') {
            Some(at) => (piece.get(..at)?, piece.get(at.checked_add(1)?..)?),
            None => (&[][..], *piece),
        };
        *piece = rest;
        if is_kept(component) {
            return Some(component);
        }
    }
    None
}

impl<'a> Iterator for Components<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        pop_front(&mut self.head).or_else(|| pop_front(&mut self.tail))
    }
}

impl DoubleEndedIterator for Components<'_> {
    fn next_back(&mut self) -> Option<Self::Item> {
        pop_back(&mut self.tail).or_else(|| pop_back(&mut self.head))
    }
}

impl FusedIterator for Components<'_> {}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::ToString;
    use std::vec::Vec;

    fn parts(path: Path<'_>) -> Vec<&[u8]> {
        path.components().collect()
    }

    #[test]
    fn cleaning() {
        assert_eq!(parts(Path::new(b"./bin//init/")), [&b"bin"[..], b"init"]);
        assert_eq!(parts(Path::new(b"/etc/./x")), [&b"etc"[..], b"x"]);
        assert!(Path::new(b"./").is_root());
        assert!(Path::new(b"").is_root());
        assert!(Path::new(b"/").is_root());
        assert!(Path::joined(b"./", b".").is_root());
        assert_eq!(parts(Path::joined(b"usr/", b"/lib")), [&b"usr"[..], b"lib"]);
        assert_eq!(parts(Path::joined(b"a", b"b")), [&b"a"[..], b"b"]);
        assert!(Path::new(b"a/../b").has_parent_component());
        assert!(!Path::new(b"a/..b").has_parent_component());
        assert_eq!(Path::new(b"/x//y/").to_string(), "x/y");
        assert_eq!(Path::new(b"./").to_string(), ".");
        assert_eq!(Path::new(b"a/\xffb").to_string(), "a/\u{fffd}b");
        assert_eq!(Path::new(b"/x//y/").len(), 3);
        assert_eq!(Path::new(b"//").len(), 0);
    }

    #[test]
    fn back_and_forth() {
        let path = Path::joined(b"/p/q/", b"./r//s");
        let forward = parts(path);
        let mut backward: Vec<&[u8]> = path.components().rev().collect();
        backward.reverse();
        assert_eq!(forward, backward);
        assert_eq!(path.file_name(), Some(&b"s"[..]));
        let mut both = path.components();
        assert_eq!(both.next(), Some(&b"p"[..]));
        assert_eq!(both.next_back(), Some(&b"s"[..]));
        assert_eq!(both.next_back(), Some(&b"r"[..]));
        assert_eq!(both.next(), Some(&b"q"[..]));
        assert_eq!(both.next(), None);
        assert_eq!(both.next_back(), None);
    }

    #[test]
    fn parents() {
        let path = Path::joined(b"p/q", b"r/s/");
        let parent = path.parent().unwrap();
        assert_eq!(parent.to_string(), "p/q/r");
        assert_eq!(parent.parent().unwrap().to_string(), "p/q");
        assert_eq!(parent.parent().unwrap().parent().unwrap().to_string(), "p");
        let top = Path::new(b"./a");
        assert!(top.parent().unwrap().is_root());
        assert!(Path::new(b"./").parent().is_none());
        // A path whose last component is in the head piece.
        let path = Path::joined(b"x/y", b"./");
        assert_eq!(path.parent().unwrap().to_string(), "x");
    }

    #[test]
    fn equality_and_matching() {
        assert_eq!(Path::joined(b"a/b", b"c"), Path::new(b"./a//b/c/"));
        assert_ne!(Path::new(b"a/b"), Path::new(b"a/bc"));
        assert!(Path::new(b"./bin/init").matches("bin/init"));
        assert!(Path::new(b"bin/init").matches("/bin/./init"));
        assert!(!Path::new(b"bin/init").matches("bin"));
        let mut buffer = [0u8; 8];
        assert_eq!(
            Path::new(b"./ab//cd/").write_to(&mut buffer),
            Some(&b"ab/cd"[..])
        );
        assert_eq!(Path::new(b"abcdefghij").write_to(&mut buffer), None);
    }
}
