//! The codec: how one value becomes words of a message body (and
//! capability slots), and how it is read back and checked.
//!
//! [`Put`] encodes, [`Take`] decodes from a [`Reader`]. Every protocol
//! argument and reply value goes through these two traits, so the rules are
//! written once here and the generated code only strings calls together:
//!
//! - integers, `bool` and enum discriminants take one word each, sign- or
//!   zero-extended; decoding checks the word fits the type (a `u8` from
//!   `0x100` is [`Malformed`], a `bool` is 0 or 1, an `i32` is a
//!   sign-extended 32-bit value);
//! - `&str` and `&[u8]` take a length word (bytes), then `ceil(len / 8)`
//!   words of bytes, little-endian, the unused bytes of the last word zero;
//!   decoding borrows them from the message (no copy), checks the padding
//!   is zero and that a string is UTF-8;
//! - capabilities ([`crate::Cap`]) take no word: they go in the message's
//!   capability slots, in argument order;
//! - a bulk descriptor ([`crate::Bulk`]) is a capability plus two words.
//!
//! A decoder never panics and never reads past the message: every length
//! is checked against what is left before it is used. [`Reader::decode`]
//! also checks that a value used every word and every capability, and
//! deletes the received capabilities a rejected message carried.

use abi::CapSlot;
use rt::ipc::Message;
use zerocopy::IntoBytes;

// The wire is little-endian; the byte view of a word below is the CPU's.
#[cfg(target_endian = "big")]
compile_error!("the protocols codec assumes a little-endian CPU");

/// A message could not be decoded: too short, too long, a value out of
/// range, bad padding, bad UTF-8, or the wrong number of capabilities.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Malformed;

/// A value did not fit: the message has no room for another word
/// ([`abi::ipc::MSG_MAX_WORDS`]) or capability ([`abi::ipc::MSG_MAX_CAPS`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Overflow;

impl From<rt::ipc::Full> for Overflow {
    #[inline(always)]
    fn from(_: rt::ipc::Full) -> Overflow {
        Overflow
    }
}

/// A value that can be sent: appends its words (and capabilities) to a
/// message.
pub trait Put {
    /// Appends the value to `message`.
    ///
    /// # Errors
    /// [`Overflow`] when the message has no room; the message then holds
    /// part of the value and must not be sent.
    fn put(&self, message: &mut Message) -> Result<(), Overflow>;
}

/// A value that can be received: read from a message, checked, and
/// possibly borrowing from it for `'m`.
pub trait Take<'m>: Sized {
    /// Reads the value from where `reader` stands and moves past it.
    ///
    /// # Errors
    /// [`Malformed`] when the words there are not a valid value.
    fn take(reader: &mut Reader<'m>) -> Result<Self, Malformed>;
}

/// Reads the body and capabilities of a received message, front to back.
#[derive(Debug)]
pub struct Reader<'m> {
    /// The words not read yet.
    words: &'m [u64],
    /// Every capability the message carried.
    caps: &'m [CapSlot],
    /// How many of `caps` have been taken (they belong to a decoded value
    /// now, which deletes them when dropped).
    caps_taken: usize,
}

impl<'m> Reader<'m> {
    /// A reader at the start of `message`'s body.
    #[inline(always)]
    pub fn new(message: &'m Message) -> Reader<'m> {
        Reader {
            words: message.words(),
            caps: message.caps(),
            caps_taken: 0,
        }
    }

    /// The next word.
    ///
    /// # Errors
    /// [`Malformed`] at the end of the body.
    #[inline(always)]
    pub fn word(&mut self) -> Result<u64, Malformed> {
        let (&first, rest) = self.words.split_first().ok_or(Malformed)?;
        self.words = rest;
        Ok(first)
    }

    /// The next `count` words.
    ///
    /// # Errors
    /// [`Malformed`] when fewer are left.
    #[inline]
    pub fn words(&mut self, count: usize) -> Result<&'m [u64], Malformed> {
        if count > self.words.len() {
            return Err(Malformed);
        }
        let (taken, rest) = self.words.split_at(count);
        self.words = rest;
        Ok(taken)
    }

    /// A length-prefixed run of bytes (the encoding of `&[u8]` and `&str`).
    ///
    /// # Errors
    /// [`Malformed`] when the length is more than the words left hold, or
    /// the unused bytes of the last word are not zero.
    #[inline]
    pub fn bytes(&mut self) -> Result<&'m [u8], Malformed> {
        let len_bytes = self.word()?;
        // Compare in words first, so that no multiplication can overflow.
        let len_words = len_bytes.div_ceil(8);
        if len_words > self.words.len() as u64 {
            return Err(Malformed);
        }
        // Both fit in usize now: len_words is at most the words left.
        let words = self.words(len_words as usize)?;
        let all = words.as_bytes();
        let (bytes, padding) = all.split_at(len_bytes as usize);
        if padding.iter().any(|&byte| byte != 0) {
            return Err(Malformed);
        }
        Ok(bytes)
    }

    /// Takes the next received capability; from now on the caller owns it.
    ///
    /// # Errors
    /// [`Malformed`] when the message carried no more.
    #[inline]
    pub fn cap(&mut self) -> Result<CapSlot, Malformed> {
        let slot = *self.caps.get(self.caps_taken).ok_or(Malformed)?;
        self.caps_taken += 1;
        Ok(slot)
    }

    /// Whether every word and every capability has been taken.
    #[inline(always)]
    pub fn is_finished(&self) -> bool {
        self.words.is_empty() && self.caps_taken == self.caps.len()
    }

    /// Deletes the capabilities not taken yet (a rejected message's), so
    /// that none is left in a slot nobody knows of.
    #[inline(always)]
    pub fn discard_rest(&mut self) {
        // The slice goes by value to an out-of-line loop, so the reader
        // itself can stay in registers on the common path.
        delete_all(self.caps.get(self.caps_taken..).unwrap_or_default());
        self.caps_taken = self.caps.len();
    }

    /// Decodes a whole message body with `decode`, and checks that it used
    /// every word and every capability.
    ///
    /// On failure the capabilities already taken are deleted with the
    /// partly decoded value, and [`Reader::discard_rest`] deletes the
    /// others: a rejected message leaves no capability behind.
    ///
    /// # Errors
    /// [`Malformed`] from `decode`, or when words or capabilities are left.
    #[inline(always)]
    pub fn decode<V>(
        &mut self,
        decode: impl FnOnce(&mut Reader<'m>) -> Result<V, Malformed>,
    ) -> Result<V, Malformed> {
        let result = match decode(self) {
            Ok(value) if self.is_finished() => Ok(value),
            // `value` (and any capability it took) is dropped here.
            Ok(_) | Err(Malformed) => Err(Malformed),
        };
        if result.is_err() {
            self.discard_rest();
        }
        result
    }
}

/// Appends a length-prefixed run of bytes: the length word, then the bytes
/// packed little-endian into words, the last one padded with zeros.
///
/// # Errors
/// [`Overflow`] when the message has no room for all of it (then nothing
/// is appended).
#[inline]
pub fn put_bytes(bytes: &[u8], message: &mut Message) -> Result<(), Overflow> {
    let len_words = bytes.len().div_ceil(8);
    if len_words >= message.room() {
        return Err(Overflow);
    }
    message.push(bytes.len() as u64)?;
    let mut chunks = bytes.chunks_exact(8);
    for chunk in &mut chunks {
        let mut word = [0; 8];
        word.copy_from_slice(chunk);
        message.push(u64::from_le_bytes(word))?;
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        let mut word = [0; 8];
        word[..tail.len()].copy_from_slice(tail);
        message.push(u64::from_le_bytes(word))?;
    }
    Ok(())
}

/// Unsigned integers: zero-extended; decoding rejects a word that does not
/// fit.
macro_rules! unsigned {
    ($($int:ty),*) => {$(
        impl Put for $int {
            #[inline(always)]
            fn put(&self, message: &mut Message) -> Result<(), Overflow> {
                Ok(message.push(u64::from(*self))?)
            }
        }

        impl Take<'_> for $int {
            #[inline(always)]
            fn take(reader: &mut Reader<'_>) -> Result<$int, Malformed> {
                <$int>::try_from(reader.word()?).map_err(|_| Malformed)
            }
        }
    )*};
}
unsigned!(u8, u16, u32, u64);

/// Signed integers: sign-extended to 64 bits; decoding rejects a word that
/// is not the sign extension of a value of the type.
macro_rules! signed {
    ($($int:ty),*) => {$(
        impl Put for $int {
            #[inline(always)]
            fn put(&self, message: &mut Message) -> Result<(), Overflow> {
                Ok(message.push(i64::from(*self) as u64)?)
            }
        }

        impl Take<'_> for $int {
            #[inline(always)]
            fn take(reader: &mut Reader<'_>) -> Result<$int, Malformed> {
                <$int>::try_from(reader.word()? as i64).map_err(|_| Malformed)
            }
        }
    )*};
}
signed!(i8, i16, i32, i64);

impl Put for bool {
    #[inline(always)]
    fn put(&self, message: &mut Message) -> Result<(), Overflow> {
        Ok(message.push(u64::from(*self))?)
    }
}

impl Take<'_> for bool {
    #[inline(always)]
    fn take(reader: &mut Reader<'_>) -> Result<bool, Malformed> {
        match reader.word()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(Malformed),
        }
    }
}

impl Put for [u8] {
    #[inline]
    fn put(&self, message: &mut Message) -> Result<(), Overflow> {
        put_bytes(self, message)
    }
}

impl<'m> Take<'m> for &'m [u8] {
    #[inline]
    fn take(reader: &mut Reader<'m>) -> Result<&'m [u8], Malformed> {
        reader.bytes()
    }
}

impl Put for str {
    #[inline]
    fn put(&self, message: &mut Message) -> Result<(), Overflow> {
        put_bytes(self.as_bytes(), message)
    }
}

impl<'m> Take<'m> for &'m str {
    #[inline]
    fn take(reader: &mut Reader<'m>) -> Result<&'m str, Malformed> {
        core::str::from_utf8(reader.bytes()?).map_err(|_| Malformed)
    }
}

impl<T: Put + ?Sized> Put for &T {
    #[inline(always)]
    fn put(&self, message: &mut Message) -> Result<(), Overflow> {
        (**self).put(message)
    }
}

/// Tuples are their elements in order (multi-value replies); `()` is
/// nothing.
macro_rules! tuple {
    ($($name:ident)*) => {
        impl<$($name: Put),*> Put for ($($name,)*) {
            #[inline(always)]
            #[allow(non_snake_case, unused_variables)]
            fn put(&self, message: &mut Message) -> Result<(), Overflow> {
                let ($($name,)*) = self;
                $($name.put(message)?;)*
                Ok(())
            }
        }

        impl<'m, $($name: Take<'m>),*> Take<'m> for ($($name,)*) {
            #[inline(always)]
            #[allow(unused_variables)]
            fn take(reader: &mut Reader<'m>) -> Result<Self, Malformed> {
                Ok(($($name::take(reader)?,)*))
            }
        }
    };
}
tuple!();
tuple!(A);
tuple!(A B);
tuple!(A B C);
tuple!(A B C D);
tuple!(A B C D E);
tuple!(A B C D E F);
tuple!(A B C D E F G);
tuple!(A B C D E F G H);

/// An enum that travels as its discriminant, one word: implemented by
/// [`wire_enum!`](crate::wire_enum), which also implements [`Put`] and
/// [`Take`] with it.
pub trait WireEnum: Sized + Copy {
    /// The discriminant.
    fn to_word(self) -> u64;
    /// The variant whose discriminant is `word`, if any.
    fn from_word(word: u64) -> Option<Self>;
}

/// Declares a fieldless enum with explicit discriminants that can be a
/// protocol argument or reply value (one word; decoding rejects a word
/// that is no variant's).
///
/// ```
/// protocols::wire_enum! {
///     /// A colour.
///     pub enum Color {
///         /// The first.
///         Red = 0,
///         /// The second.
///         Green = 1,
///     }
/// }
/// use protocols::wire::WireEnum;
/// assert_eq!(Color::from_word(1), Some(Color::Green));
/// assert_eq!(Color::from_word(2), None);
/// ```
#[macro_export]
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $($(#[$vmeta:meta])* $variant:ident = $value:literal),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        #[repr(u64)]
        $vis enum $name {
            $($(#[$vmeta])* $variant = $value),*
        }

        impl $name {
            /// Every variant, in declaration order.
            #[allow(dead_code)]
            pub const ALL: &'static [$name] = &[$($name::$variant),*];
        }

        impl $crate::wire::WireEnum for $name {
            #[inline(always)]
            fn to_word(self) -> u64 {
                self as u64
            }

            #[inline]
            fn from_word(word: u64) -> Option<Self> {
                match word {
                    $($value => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl $crate::wire::Put for $name {
            #[inline(always)]
            fn put(
                &self,
                message: &mut $crate::rt::ipc::Message,
            ) -> Result<(), $crate::wire::Overflow> {
                message
                    .push($crate::wire::WireEnum::to_word(*self))
                    .map_err(|_| $crate::wire::Overflow)
            }
        }

        impl $crate::wire::Take<'_> for $name {
            #[inline]
            fn take(
                reader: &mut $crate::wire::Reader<'_>,
            ) -> Result<Self, $crate::wire::Malformed> {
                <$name as $crate::wire::WireEnum>::from_word(reader.word()?)
                    .ok_or($crate::wire::Malformed)
            }
        }
    };
}

/// Deletes every capability of `caps`.
#[cold]
#[inline(never)]
fn delete_all(caps: &[CapSlot]) {
    for &slot in caps {
        crate::cap::delete(slot);
    }
}
