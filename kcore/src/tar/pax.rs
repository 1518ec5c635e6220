//! POSIX.1-2001 pax extended headers: the records of an `x` (or Solaris
//! `X`) member, which describe the member after it, and of a `g` member,
//! which describe every member after it.
//!
//! # Format
//!
//! The data of such a member is a sequence of records
//! `"<length> <keyword>=<value>\n"`, where `<length>` is the decimal byte
//! count of the whole record, itself and the newline included. A value may
//! hold any byte, `=` and newlines too, since the length delimits it. An
//! empty value removes the keyword (for a global keyword: from then on).
//!
//! # Keywords used
//!
//! | keyword                   | effect                                          |
//! |---------------------------|-------------------------------------------------|
//! | `path`                    | the member's path, replacing `prefix` and `name` |
//! | `linkpath`                | the link target, replacing `linkname`           |
//! | `size`                    | the data length, replacing `size`               |
//! | `mtime`                   | seconds, with an optional fraction (dropped)    |
//! | `uid`, `gid`              | owner numbers                                   |
//! | `GNU.sparse.*`            | a GNU sparse file (formats 0.0, 0.1 and 1.0)    |
//! | `GNU.sparse.name`         | the sparse file's real path (0.1, 1.0)          |
//!
//! Other keywords (`atime`, `ctime`, `uname`, `gname`, `comment`,
//! `hdrcharset`, `SCHILY.*`, `LIBARCHIVE.*`, ...) are ignored.
//!
//! In a global (`g`) header only `mtime`, `uid` and `gid` are honoured.
//! `path`, `linkpath` and `size` there would give every later member the
//! same name or the same length, which no tar writer means, and
//! `GNU.sparse.*` describes one file; a global header carrying them has
//! them ignored.
//!
//! Values borrow the archive: no record is copied.

/// The attributes that extended headers set for one member.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Attributes<'a> {
    /// `path`.
    pub path: Option<&'a [u8]>,
    /// `linkpath`.
    pub link_path: Option<&'a [u8]>,
    /// `size`.
    pub size: Option<u64>,
    /// `mtime`, whole seconds (rounded down).
    pub mtime: Option<i64>,
    /// `uid`.
    pub uid: Option<u64>,
    /// `gid`.
    pub gid: Option<u64>,
    /// Some `GNU.sparse.*` keyword was present.
    pub sparse: bool,
    /// `GNU.sparse.name`: the real path of a sparse file.
    pub sparse_name: Option<&'a [u8]>,
    /// A record could not be read, or a number in one was not a number.
    pub malformed: bool,
}

/// Which kind of extended header the records come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// `x`: for the next member only.
    Member,
    /// `g`: for every member after it.
    Global,
}

impl<'a> Attributes<'a> {
    /// Applies every record of `data`, later records overriding earlier
    /// ones (and earlier headers).
    pub fn apply(&mut self, data: &'a [u8], scope: Scope) {
        for record in (Records { rest: data }) {
            match record {
                Ok((key, value)) => self.apply_record(key, value, scope),
                Err(Malformed) => self.malformed = true,
            }
        }
    }

    /// Applies one record.
    fn apply_record(&mut self, key: &'a [u8], value: &'a [u8], scope: Scope) {
        let set = (!value.is_empty()).then_some(value);
        let member_only = scope == Scope::Member;
        match key {
            b"path" if member_only => self.path = set,
            b"linkpath" if member_only => self.link_path = set,
            b"size" if member_only => self.size = self.number(set, parse_decimal),
            b"mtime" => self.mtime = self.number(set, parse_time),
            b"uid" => self.uid = self.number(set, parse_decimal),
            b"gid" => self.gid = self.number(set, parse_decimal),
            b"GNU.sparse.name" if member_only => {
                self.sparse = true;
                self.sparse_name = set;
            }
            _ if member_only && key.starts_with(b"GNU.sparse.") => self.sparse = true,
            _ => {}
        }
    }

    /// Parses an optional value with `parse`, noting a malformed one.
    fn number<T>(&mut self, value: Option<&[u8]>, parse: fn(&[u8]) -> Option<T>) -> Option<T> {
        let value = value?;
        let parsed = parse(value);
        if parsed.is_none() {
            self.malformed = true;
        }
        parsed
    }

    /// These attributes with `global`'s filling the gaps.
    pub fn over(self, global: &Attributes<'a>) -> Attributes<'a> {
        Attributes {
            mtime: self.mtime.or(global.mtime),
            uid: self.uid.or(global.uid),
            gid: self.gid.or(global.gid),
            malformed: self.malformed || global.malformed,
            ..self
        }
    }
}

/// A record that cannot be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Malformed;

/// Iterator over the `(keyword, value)` records of an extended header.
/// After a malformed record it yields one `Err` and stops, since the
/// lengths no longer say where records start.
struct Records<'a> {
    /// The records not yet read.
    rest: &'a [u8],
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<(&'a [u8], &'a [u8]), Malformed>;

    fn next(&mut self) -> Option<Self::Item> {
        // Trailing NULs are padding some writers leave.
        if self.rest.iter().all(|byte| *byte == 0) {
            return None;
        }
        let record = read_record(self.rest);
        match record {
            Some((key, value, rest)) => {
                self.rest = rest;
                Some(Ok((key, value)))
            }
            None => {
                self.rest = &[];
                Some(Err(Malformed))
            }
        }
    }
}

/// Reads the record at the start of `data`: its keyword, its value, and the
/// bytes after it.
fn read_record(data: &[u8]) -> Option<(&[u8], &[u8], &[u8])> {
    let space = data.iter().position(|byte| *byte == b' ')?;
    let len = parse_decimal(data.get(..space)?)?;
    let len = usize::try_from(len).ok()?;
    let record = data.get(..len)?;
    let rest = data.get(len..)?;
    let (&newline, body) = record.split_last()?;
    if newline != b'\n' {
        return None;
    }
    let body = body.get(space.checked_add(1)?..)?;
    let equals = body.iter().position(|byte| *byte == b'=')?;
    let key = body.get(..equals)?;
    let value = body.get(equals.checked_add(1)?..)?;
    if key.is_empty() {
        return None;
    }
    Some((key, value, rest))
}

/// A non-empty decimal number with no sign, or `None`.
pub fn parse_decimal(text: &[u8]) -> Option<u64> {
    if text.is_empty() {
        return None;
    }
    text.iter().try_fold(0u64, |value, byte| {
        let digit = byte.checked_sub(b'0').filter(|digit| *digit <= 9)?;
        value.checked_mul(10)?.checked_add(u64::from(digit))
    })
}

/// A time `[-]seconds[.fraction]`, rounded down to whole seconds.
fn parse_time(text: &[u8]) -> Option<i64> {
    let (negative, text) = match text.strip_prefix(b"-") {
        Some(rest) => (true, rest),
        None => (false, text),
    };
    let (whole, fraction) = match text.iter().position(|byte| *byte == b'.') {
        Some(dot) => (text.get(..dot)?, text.get(dot.checked_add(1)?..)?),
        None => (text, &[][..]),
    };
    if !fraction.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let whole = i64::try_from(parse_decimal(whole)?).ok()?;
    if !negative {
        return Some(whole);
    }
    let has_fraction = fraction.iter().any(|digit| *digit != b'0');
    whole.checked_neg()?.checked_sub(i64::from(has_fraction))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(key: &str, value: &str) -> std::string::String {
        // The length counts its own digits: find the fixed point.
        let body = key.len() + value.len() + 3;
        let mut len = body + 1;
        while len != body + len.to_string().len() {
            len = body + len.to_string().len();
        }
        format!("{len} {key}={value}\n")
    }

    #[test]
    fn records_apply_in_order() {
        let data = [
            record("path", "a/b"),
            record("size", "1234"),
            record("mtime", "1700000000.5"),
            record("uid", "7"),
            record("comment", "x=y\nz"),
            record("path", "c/d"),
        ]
        .concat();
        let mut attributes = Attributes::default();
        attributes.apply(data.as_bytes(), Scope::Member);
        assert_eq!(attributes.path, Some(&b"c/d"[..]));
        assert_eq!(attributes.size, Some(1234));
        assert_eq!(attributes.mtime, Some(1_700_000_000));
        assert_eq!(attributes.uid, Some(7));
        assert!(!attributes.malformed && !attributes.sparse);
        // An empty value removes the keyword.
        let unset = record("path", "");
        attributes.apply(unset.as_bytes(), Scope::Member);
        assert_eq!(attributes.path, None);
    }

    #[test]
    fn global_scope_ignores_per_file_keywords() {
        let data = [
            record("path", "everything"),
            record("size", "1"),
            record("mtime", "5"),
            record("gid", "3"),
            record("GNU.sparse.major", "1"),
        ]
        .concat();
        let mut global = Attributes::default();
        global.apply(data.as_bytes(), Scope::Global);
        assert_eq!(global.path, None);
        assert_eq!(global.size, None);
        assert!(!global.sparse);
        let member = Attributes {
            mtime: Some(9),
            ..Attributes::default()
        }
        .over(&global);
        assert_eq!((member.mtime, member.gid), (Some(9), Some(3)));
    }

    #[test]
    fn sparse_keywords() {
        let mut attributes = Attributes::default();
        let data = [
            record("GNU.sparse.major", "1"),
            record("GNU.sparse.name", "real/name"),
        ]
        .concat();
        attributes.apply(data.as_bytes(), Scope::Member);
        assert!(attributes.sparse);
        assert_eq!(attributes.sparse_name, Some(&b"real/name"[..]));
    }

    #[test]
    fn malformed_records() {
        for bad in [
            "5 a=b\n",        // length too small for the record
            "99 path=x\n",    // length past the end
            "9 path=x!",      // no newline
            "8 pathx\n",      // no `=`
            "5 =x\n",         // empty keyword
            "x path=y\n",     // length not a number
            "13 size=12a4\n", // size not a number
            "14 mtime=1.x5\n",
        ] {
            let mut attributes = Attributes::default();
            attributes.apply(bad.as_bytes(), Scope::Member);
            assert!(attributes.malformed, "{bad:?}");
        }
        // NUL padding after the records is fine.
        let mut attributes = Attributes::default();
        attributes.apply(b"11 path=ab\n\0\0\0", Scope::Member);
        assert!(!attributes.malformed);
        assert_eq!(attributes.path, Some(&b"ab"[..]));
    }

    #[test]
    fn times() {
        assert_eq!(parse_time(b"12"), Some(12));
        assert_eq!(parse_time(b"12.999"), Some(12));
        assert_eq!(parse_time(b"-12"), Some(-12));
        assert_eq!(parse_time(b"-12.5"), Some(-13));
        assert_eq!(parse_time(b"-12.000"), Some(-12));
        assert_eq!(parse_time(b""), None);
        assert_eq!(parse_time(b"-"), None);
        assert_eq!(parse_time(b"99999999999999999999"), None);
        assert_eq!(parse_decimal(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_decimal(b"18446744073709551616"), None);
        assert_eq!(parse_decimal(b"+1"), None);
    }
}
