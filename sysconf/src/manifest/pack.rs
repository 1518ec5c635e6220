//! The encoder: [`pack_into`] and [`pack`], `const fn`s so that
//! [`manifest!`](crate::manifest!) packs a program's needs at compile time,
//! and the macro itself. A need out of range fails the pack with the
//! decoder's own rule ([`Need::validate`]); in the macro, at compile time,
//! that is a compile error.

use core::fmt;

use super::{
    GSI_ACTIVE_LOW, GSI_LEVEL, HEADER_BYTES, MAGIC, Need, NeedError, RECORD_BYTES, VERSION, kind,
};

/// Why needs could not be packed ([`pack`], [`pack_into`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PackError {
    /// More than 0xffff needs.
    TooManyNeeds,
    /// More than `u32::MAX` bytes in all.
    TooLarge,
    /// The output buffer is shorter than [`packed_len`] (for [`pack`]:
    /// its length is not exactly that).
    WrongLength,
    /// A need whose values are out of range.
    BadNeed {
        /// The need's index.
        index: u16,
        /// What is wrong.
        error: NeedError,
    },
}

impl PackError {
    /// The message without the need's index, for a compile-time panic.
    pub const fn message(self) -> &'static str {
        match self {
            PackError::TooManyNeeds => "more than 65535 needs",
            PackError::TooLarge => "the manifest would be larger than 4 GiB",
            PackError::WrongLength => "the output buffer's length is not the packed length",
            PackError::BadNeed { error, .. } => error.message(),
        }
    }
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            PackError::BadNeed { index, error } => write!(f, "need {index}: {error}"),
            other => f.write_str(other.message()),
        }
    }
}

/// The packed size of `needs` in bytes (saturating, for lists too large to
/// pack, which [`pack_into`] refuses).
pub const fn packed_len(needs: &[Need<'_>]) -> usize {
    let mut len = HEADER_BYTES.saturating_add(needs.len().saturating_mul(RECORD_BYTES));
    let mut i = 0;
    while i < needs.len() {
        if let Need::Serves(name) | Need::ClientOf(name) = needs[i] {
            len = len.saturating_add(name.len());
        }
        i += 1;
    }
    len
}

/// Packs `needs` into exactly [`packed_len`] bytes at the start of `out`,
/// and returns that length.
///
/// # Errors
/// A [`PackError`] for a need out of range, too many needs, or an `out`
/// shorter than [`packed_len`]; `out` is untouched then.
pub const fn pack_into(needs: &[Need<'_>], out: &mut [u8]) -> Result<usize, PackError> {
    if needs.len() > u16::MAX as usize {
        return Err(PackError::TooManyNeeds);
    }
    let mut i = 0;
    while i < needs.len() {
        if let Err(error) = needs[i].validate() {
            return Err(PackError::BadNeed {
                index: i as u16,
                error,
            });
        }
        i += 1;
    }
    let total = packed_len(needs);
    if total > u32::MAX as usize {
        return Err(PackError::TooLarge);
    }
    if out.len() < total {
        return Err(PackError::WrongLength);
    }
    let records_end = HEADER_BYTES + needs.len() * RECORD_BYTES;
    put(out, 0, &MAGIC);
    put(out, 4, &VERSION.to_le_bytes());
    put(out, 6, &(needs.len() as u16).to_le_bytes());
    put(out, 8, &((total - records_end) as u32).to_le_bytes());
    put(out, 12, &(total as u32).to_le_bytes());
    let mut string_at = 0;
    let mut i = 0;
    while i < needs.len() {
        let (kind, a, b) = match needs[i] {
            Need::IoPorts { base, count } => (kind::IO_PORTS, base as u32, count as u64),
            Need::IrqIsa(line) => (kind::IRQ_ISA, line as u32, 0),
            Need::IrqGsi {
                gsi,
                level,
                active_low,
            } => {
                let mut flags = 0;
                if level {
                    flags |= GSI_LEVEL;
                }
                if active_low {
                    flags |= GSI_ACTIVE_LOW;
                }
                (kind::IRQ_GSI, gsi, flags)
            }
            Need::DeviceMemory { phys, pages } => (kind::DEVICE_MEMORY, pages, phys),
            Need::Serves(name) | Need::ClientOf(name) => {
                let kind = if let Need::Serves(_) = needs[i] {
                    kind::SERVES
                } else {
                    kind::CLIENT_OF
                };
                put(out, records_end + string_at, name.as_bytes());
                let offset = string_at as u32;
                string_at += name.len();
                (kind, offset, name.len() as u64)
            }
            Need::Authority(authority) => (kind::AUTHORITY, authority.id(), 0),
            Need::Debug => (kind::DEBUG, 0, 0),
        };
        let record = HEADER_BYTES + i * RECORD_BYTES;
        put(out, record, &[kind, 0, 0, 0]);
        put(out, record + 4, &a.to_le_bytes());
        put(out, record + 8, &b.to_le_bytes());
        i += 1;
    }
    Ok(total)
}

/// Packs `needs` into an array of exactly their [`packed_len`]; what
/// [`manifest!`](crate::manifest!) evaluates at compile time.
///
/// # Errors
/// As [`pack_into`]; [`PackError::WrongLength`] when `N` is not the packed
/// length.
pub const fn pack<const N: usize>(needs: &[Need<'_>]) -> Result<[u8; N], PackError> {
    if packed_len(needs) != N {
        return Err(PackError::WrongLength);
    }
    let mut out = [0u8; N];
    match pack_into(needs, &mut out) {
        Ok(_) => Ok(out),
        Err(error) => Err(error),
    }
}

/// Copies `bytes` to `out[at..]`; the caller has checked the room.
const fn put(out: &mut [u8], at: usize, bytes: &[u8]) {
    let mut i = 0;
    while i < bytes.len() {
        out[at + i] = bytes[i];
        i += 1;
    }
}

/// Support for [`manifest!`](crate::manifest!); not a stable interface.
#[doc(hidden)]
pub mod __private {
    use super::{Need, pack as try_pack};
    use crate::Authority;

    /// [`super::pack`], with a failure turned into a panic: evaluated in a
    /// `static`'s initializer, a compile error that says what is wrong.
    pub const fn pack<const N: usize>(needs: &[Need<'_>]) -> [u8; N] {
        match try_pack::<N>(needs) {
            Ok(bytes) => bytes,
            Err(error) => panic!("{}", error.message()),
        }
    }

    /// The authority named `name`; an unknown name panics (at compile
    /// time, in the macro).
    pub const fn authority(name: &str) -> Authority {
        match Authority::from_name(name) {
            Some(authority) => authority,
            None => panic!("unknown authority name (the names are in sysconf::Authority::NAMES)"),
        }
    }

    /// A GSI need under construction: `gsi(20, level, active_low)` in the
    /// macro becomes `Gsi::new(20).level().active_low().need()`.
    #[derive(Clone, Copy, Debug)]
    pub struct Gsi {
        gsi: u32,
        level: bool,
        active_low: bool,
    }

    impl Gsi {
        /// Edge-triggered, active high.
        pub const fn new(gsi: u32) -> Gsi {
            Gsi {
                gsi,
                level: false,
                active_low: false,
            }
        }

        /// Level-triggered.
        pub const fn level(self) -> Gsi {
            Gsi {
                level: true,
                ..self
            }
        }

        /// Active low.
        pub const fn active_low(self) -> Gsi {
            Gsi {
                active_low: true,
                ..self
            }
        }

        /// The need.
        pub const fn need(self) -> Need<'static> {
            Need::IrqGsi {
                gsi: self.gsi,
                level: self.level,
                active_low: self.active_low,
            }
        }
    }
}

/// Declares the program's manifest: packs the needs at compile time into
/// a `static MANIFEST: [u8; _]` in the ELF section `.mica.manifest`, which
/// init reads from the file before it starts the program.
///
/// ```
/// sysconf::manifest! {
///     io_ports: [(0x3f8, 8)],
///     irqs: [isa(4), gsi(20, level, active_low)],
///     device_memory: [(0xfeb0_0000, 2)],
///     serves: ["serial"],
///     client_of: ["log"],
///     authority: ["boot-info"],
///     debug: true,
/// }
///
/// let manifest = sysconf::manifest::Manifest::parse(&MANIFEST).unwrap();
/// assert_eq!(manifest.len(), 8);
/// ```
///
/// Every key is optional, may come in any order and may repeat; a trailing
/// comma is allowed. The values:
///
/// | key             | items                                     | need |
/// |-----------------|-------------------------------------------|------|
/// | `io_ports`      | `(base, count)`: a `u16` and a `u32`      | [`Need::IoPorts`] |
/// | `irqs`          | `isa(line)`; `gsi(n)`, `gsi(n, level)`, `gsi(n, active_low)`, `gsi(n, level, active_low)` | [`Need::IrqIsa`], [`Need::IrqGsi`] |
/// | `device_memory` | `(phys, pages)`: a `u64` and a `u32`      | [`Need::DeviceMemory`] |
/// | `serves`        | endpoint names, `&'static str`            | [`Need::Serves`] |
/// | `client_of`     | endpoint names                            | [`Need::ClientOf`] |
/// | `authority`     | names as in `system.toml`: `"io-space"`, `"irq-control"`, `"device-memory"`, `"initramfs"`, `"boot-info"`, `"supervisor"`, `"kernel-log"` | [`Need::Authority`] |
/// | `debug`         | `true` or `false` (not a list)            | [`Need::Debug`] |
///
/// Items are constant expressions, so named constants work. Everything is
/// checked at compile time with the decoder's rules: a range that is empty
/// or out of bounds, an IRQ out of range, a bad endpoint name or an unknown
/// authority is a compile error ("evaluation panicked: an ISA IRQ line is
/// above 15"), and so is an unknown key or IRQ form:
///
/// ```compile_fail,E0080
/// sysconf::manifest! { irqs: [isa(16)] }
/// ```
/// ```compile_fail,E0080
/// sysconf::manifest! { io_ports: [(0xfff8, 9)] }
/// ```
/// ```compile_fail,E0080
/// sysconf::manifest! { device_memory: [(0x1001, 1)] }
/// ```
/// ```compile_fail,E0080
/// sysconf::manifest! { serves: ["Serial"] }
/// ```
/// ```compile_fail,E0080
/// sysconf::manifest! { authority: ["io_space"] }
/// ```
/// ```compile_fail
/// sysconf::manifest! { ports: [(0x60, 1)] }
/// ```
/// ```compile_fail
/// sysconf::manifest! { irqs: [msi(3)] }
/// ```
/// ```compile_fail
/// sysconf::manifest! { irqs: [gsi(20, rising)] }
/// ```
/// ```compile_fail
/// sysconf::manifest! { io_ports: [(0x10000, 1)] }
/// ```
///
/// Use it once per program: the static is named `MANIFEST`, so a second
/// use in one module does not compile, and two manifests linked into one
/// program would share the section and fail [`Manifest::parse`](crate::manifest::Manifest::parse). The
/// program's linker script must keep the section (`rt/elf.ld` does).
///
/// # Unsafe code
///
/// The expansion carries `#[unsafe(link_section = ...)]`, which the
/// `unsafe_code` lint flags. Rust does not report that lint inside a macro
/// from another crate, so a program crate with `#![forbid(unsafe_code)]`
/// can use this macro as it is (`sysconf/tests/manifest_macro.rs` is such
/// a crate). Only code inside `sysconf` itself could not.
#[macro_export]
macro_rules! manifest {
    ($($body:tt)*) => {
        $crate::__manifest_needs! { [] $($body)* }
    };
}

/// [`manifest!`]'s muncher: takes one `key: value` at a time, appending
/// its needs to the list in brackets, then emits the static.
#[doc(hidden)]
#[macro_export]
macro_rules! __manifest_needs {
    ([$($need:expr,)*]) => {
        #[used]
        #[unsafe(link_section = ".mica.manifest")]
        static MANIFEST: [u8; $crate::manifest::packed_len(&[$($need),*])] =
            $crate::manifest::__private::pack(&[$($need),*]);
    };
    ([$($acc:tt)*] io_ports: [$(($base:expr, $count:expr)),* $(,)?] $(, $($rest:tt)*)?) => {
        $crate::__manifest_needs! {
            [$($acc)* $($crate::manifest::Need::IoPorts { base: $base, count: $count },)*]
            $($($rest)*)?
        }
    };
    ([$($acc:tt)*] irqs: [$($form:ident ($($arg:tt)*)),* $(,)?] $(, $($rest:tt)*)?) => {
        $crate::__manifest_needs! {
            [$($acc)* $($crate::__manifest_irq!($form $($arg)*),)*]
            $($($rest)*)?
        }
    };
    ([$($acc:tt)*] device_memory: [$(($phys:expr, $pages:expr)),* $(,)?] $(, $($rest:tt)*)?) => {
        $crate::__manifest_needs! {
            [$($acc)* $($crate::manifest::Need::DeviceMemory { phys: $phys, pages: $pages },)*]
            $($($rest)*)?
        }
    };
    ([$($acc:tt)*] serves: [$($name:expr),* $(,)?] $(, $($rest:tt)*)?) => {
        $crate::__manifest_needs! {
            [$($acc)* $($crate::manifest::Need::Serves($name),)*]
            $($($rest)*)?
        }
    };
    ([$($acc:tt)*] client_of: [$($name:expr),* $(,)?] $(, $($rest:tt)*)?) => {
        $crate::__manifest_needs! {
            [$($acc)* $($crate::manifest::Need::ClientOf($name),)*]
            $($($rest)*)?
        }
    };
    ([$($acc:tt)*] authority: [$($name:expr),* $(,)?] $(, $($rest:tt)*)?) => {
        $crate::__manifest_needs! {
            [$($acc)* $($crate::manifest::Need::Authority(
                $crate::manifest::__private::authority($name)
            ),)*]
            $($($rest)*)?
        }
    };
    ([$($acc:tt)*] debug: true $(, $($rest:tt)*)?) => {
        $crate::__manifest_needs! { [$($acc)* $crate::manifest::Need::Debug,] $($($rest)*)? }
    };
    ([$($acc:tt)*] debug: false $(, $($rest:tt)*)?) => {
        $crate::__manifest_needs! { [$($acc)*] $($($rest)*)? }
    };
}

/// One `irqs` item of [`manifest!`] as a [`Need`].
#[doc(hidden)]
#[macro_export]
macro_rules! __manifest_irq {
    (isa $line:expr) => {
        $crate::manifest::Need::IrqIsa($line)
    };
    (gsi $gsi:expr $(, $flag:ident)* $(,)?) => {
        $crate::manifest::__private::Gsi::new($gsi) $(.$flag())* .need()
    };
}
