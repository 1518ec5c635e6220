//! The [`protocol!`](crate::protocol) macro, and the hidden helpers it
//! expands through.
//!
//! The macro is `macro_rules!` on stable Rust. It reads the whole protocol
//! in one match and generates, per operation, a client method, a server
//! trait method and one arm of the dispatch `match`. The types a
//! definition writes are *shapes* (`u64`, `&str`, `Cap`, ...); the helpers
//! turn a shape into the type the sending side passes
//! ([`__protocol_ty!`]`(send ..)`) or the receiving side gets
//! (`(recv ..)`), so that a client passes a `CapSlot` it keeps and a
//! server gets a [`Cap`](crate::Cap) it owns. The codec itself is in
//! [`crate::wire`]: the generated code only calls `Put` and `Take`.

/// Defines a protocol: its operations, from which the macro generates the
/// client, the server trait and the dispatch.
///
/// ```
/// protocols::protocol! {
///     /// Counts things.
///     pub protocol Counter = 0x434e {
///         client CounterClient;
///         server CounterServer;
///
///         /// Adds `amount`; returns the new total.
///         fn add(amount: u64) -> u64 = 1;
///         /// The total and a name for it.
///         #[idempotent]
///         fn total() -> (u64, &str) = 2;
///     }
/// }
/// ```
///
/// generates, next to the invocation (one protocol per module):
///
/// - `struct Counter`, whose `Counter::ID` is the protocol number (not on
///   the wire; it names the protocol in logs and system descriptions) and
///   `Counter::OPERATIONS` lists name, opcode and idempotence of each;
/// - `CounterClient<T: Transport = Endpoint>`, with `new(transport)` and
///   one method per operation, `fn add(&mut self, amount: u64) ->
///   Result<u64, Error>`, whose reply values borrow from the client;
/// - `trait CounterServer`, with one method per operation taking decoded,
///   checked arguments: `fn total<'m>(&'m mut self) -> Result<(u64, &'m
///   str), ErrorCode>` (borrowed reply values may come from the server or
///   from the request);
/// - `fn dispatch<S: CounterServer + ?Sized>(server: &mut S, request:
///   &Message, reply: &mut Message)`, which decodes and checks the request,
///   calls the handler and encodes the reply (or a status); it never
///   panics.
///
/// Shapes of arguments and reply values (a reply is one shape, a
/// parenthesised tuple of shapes, or nothing):
///
/// | shape | sender passes | receiver gets | wire |
/// |---|---|---|---|
/// | `u8` `u16` `u32` `u64` `i8` `i16` `i32` `i64` `bool` | the same | the same | one word |
/// | an enum from [`wire_enum!`](crate::wire_enum) | the same | the same | one word |
/// | `&str`, `&[u8]` | `&str`, `&[u8]` | borrowed from the message | length word + bytes |
/// | `Cap` | `CapSlot` (kept) | [`Cap`](crate::Cap) (owned) | a capability slot |
/// | `Bulk` | [`Bulk`](crate::Bulk) | [`ReceivedBulk`](crate::ReceivedBulk) | a capability slot + 2 words |
///
/// Types are written as these single names (import an enum, don't write
/// its path). `#[idempotent]` before an operation makes the client retry
/// it once after `PeerClosed`. Opcodes are `u16` and distinct; a
/// duplicate does not compile:
///
/// ```compile_fail
/// protocols::protocol! {
///     /// Two operations, one opcode.
///     pub protocol Twice = 1 {
///         client TwiceClient;
///         server TwiceServer;
///         /// One.
///         fn one() = 1;
///         /// Two.
///         fn two() = 1;
///     }
/// }
/// ```
///
/// The client's own methods `new`, `client` and `client_mut` cannot be
/// operation names.
#[macro_export]
macro_rules! protocol {
    (
        $(#[$meta:meta])*
        $vis:vis protocol $name:ident = $id:literal {
            client $client:ident;
            server $server:ident;
            $(
                $(#[$($attr:tt)*])*
                fn $op:ident ( $($arg:ident : $(& $aref:tt)? $($aplain:ident)?),* $(,)? )
                    $(-> $(& $rref:tt)? $($rplain:ident)? $(($($rtuple:tt)*))?)?
                    = $code:literal;
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug)]
        $vis struct $name;

        impl $name {
            /// The protocol's number (it names the protocol; it is not on
            /// the wire).
            pub const ID: u16 = $id;
            /// The protocol's name.
            pub const NAME: &'static str = stringify!($name);
            /// Every operation, in definition order.
            pub const OPERATIONS: &'static [$crate::Operation] = &[$(
                $crate::Operation {
                    name: stringify!($op),
                    opcode: $code,
                    idempotent: $crate::__protocol_idempotent!([$([$($attr)*])*]),
                },
            )*];
        }

        #[doc = concat!("The client of [`", stringify!($name), "`]: one method per operation.")]
        ///
        /// Each method sends one request through the transport (an
        /// `Endpoint` on Mica) and decodes the reply; values borrowed from
        /// the reply live until the next call.
        #[derive(Debug)]
        $vis struct $client<T = $crate::rt::ipc::Endpoint> {
            client: $crate::Client<T>,
        }

        impl<T: $crate::Transport> $client<T> {
            /// A client calling through `transport`.
            pub fn new(transport: T) -> Self {
                $client { client: $crate::Client::new(transport) }
            }

            /// The protocol-independent part: transport, deadline.
            pub fn client(&self) -> &$crate::Client<T> {
                &self.client
            }

            /// The protocol-independent part, mutably.
            pub fn client_mut(&mut self) -> &mut $crate::Client<T> {
                &mut self.client
            }

            $(
                $crate::__protocol_item! {
                    [$([$($attr)*])*] []
                    #[inline(always)]
                    #[allow(clippy::too_many_arguments)] // as many as the protocol has
                    pub fn $op<'c>(
                        &'c mut self,
                        $($arg: $crate::__protocol_ty!(send '_; $(& $aref)? $($aplain)?)),*
                    ) -> ::core::result::Result<
                        $crate::__protocol_ret!(recv 'c; [$(-> $(& $rref)? $($rplain)? $(($($rtuple)*))?)?]),
                        $crate::Error,
                    > {
                        #[allow(unused_variables)] // an operation without arguments
                        let message = self.client.start($code);
                        $(
                            $crate::wire::Put::put(&$arg, message)
                                .map_err(|_| $crate::Error::TooLarge)?;
                        )*
                        let idempotent = $crate::__protocol_idempotent!([$([$($attr)*])*]);
                        let mut reader = self.client.finish(idempotent)?;
                        reader
                            .decode(<$crate::__protocol_ret!(
                                recv 'c; [$(-> $(& $rref)? $($rplain)? $(($($rtuple)*))?)?]
                            ) as $crate::wire::Take<'c>>::take)
                            .map_err(|_| $crate::Error::Malformed)
                    }
                }
            )*
        }

        #[doc = concat!("The server side of [`", stringify!($name), "`]: one handler per operation.")]
        ///
        /// A handler gets decoded, checked arguments and returns the reply
        /// values or an application error. Borrowed reply values may come
        /// from the server or from the request (`'m` covers both).
        $vis trait $server {
            $(
                $crate::__protocol_item! {
                    [$([$($attr)*])*] []
                    #[allow(clippy::needless_lifetimes, clippy::too_many_arguments)]
                    fn $op<'m>(
                        &'m mut self,
                        $($arg: $crate::__protocol_ty!(recv 'm; $(& $aref)? $($aplain)?)),*
                    ) -> ::core::result::Result<
                        $crate::__protocol_ret!(send 'm; [$(-> $(& $rref)? $($rplain)? $(($($rtuple)*))?)?]),
                        $crate::ErrorCode,
                    >;
                }
            )*
        }

        #[doc = concat!("Answers one [`", stringify!($name), "`] request: decodes and checks it, calls")]
        /// the handler and encodes its reply into `reply`.
        ///
        /// A request that does not decode is answered with status
        /// `MALFORMED`, an unknown opcode with `UNKNOWN_OPERATION`, an
        /// application error with its code; the capabilities of a rejected
        /// request are deleted. Never panics.
        #[deny(unreachable_patterns)] // two operations with one opcode
        #[allow(unused_variables)] // the reader of an operation without arguments
        $vis fn dispatch<S: $server + ?Sized>(
            server: &mut S,
            request: &$crate::rt::ipc::Message,
            reply: &mut $crate::rt::ipc::Message,
        ) {
            let (opcode, request_id) = $crate::status::split_label(request.label());
            let mut reader = $crate::wire::Reader::new(request);
            let status: u16 = match opcode {
                $(
                    $code => match reader.decode(|reader| {
                        ::core::result::Result::Ok(($(
                            <$crate::__protocol_ty!(recv '_; $(& $aref)? $($aplain)?)
                                as $crate::wire::Take<'_>>::take(reader)?,
                        )*))
                    }) {
                        ::core::result::Result::Ok(($($arg,)*)) => match server.$op($($arg),*) {
                            ::core::result::Result::Ok(values) => {
                                reply.clear(
                                    $crate::status::reply_label($crate::status::OK, request_id),
                                );
                                match $crate::wire::Put::put(&values, reply) {
                                    ::core::result::Result::Ok(()) => return,
                                    ::core::result::Result::Err(_) => $crate::status::REPLY_TOO_LARGE,
                                }
                            }
                            ::core::result::Result::Err(code) => code.get(),
                        },
                        ::core::result::Result::Err(_) => $crate::status::MALFORMED,
                    },
                )*
                _ => {
                    reader.discard_rest();
                    $crate::status::UNKNOWN_OPERATION
                }
            };
            reply.clear($crate::status::reply_label(status, request_id));
        }
    };
}

/// The type of one shape, as sent (`send`) or as received (`recv`), with
/// borrowed data living for the given lifetime.
#[doc(hidden)]
#[macro_export]
macro_rules! __protocol_ty {
    (send $lt:lifetime; & str) => { &$lt str };
    (send $lt:lifetime; & [u8]) => { &$lt [u8] };
    (send $lt:lifetime; Cap) => { $crate::abi::CapSlot };
    (send $lt:lifetime; Bulk) => { $crate::Bulk };
    (recv $lt:lifetime; & str) => { &$lt str };
    (recv $lt:lifetime; & [u8]) => { &$lt [u8] };
    (recv $lt:lifetime; Cap) => { $crate::Cap };
    (recv $lt:lifetime; Bulk) => { $crate::ReceivedBulk };
    ($dir:ident $lt:lifetime; $plain:ident) => { $plain };
}

/// The type of a reply: `()`, one shape, or a tuple of shapes.
#[doc(hidden)]
#[macro_export]
macro_rules! __protocol_ret {
    ($dir:ident $lt:lifetime; []) => { () };
    ($dir:ident $lt:lifetime; [-> ($($(& $ref:tt)? $($plain:ident)?),* $(,)?)]) => {
        ($($crate::__protocol_ty!($dir $lt; $(& $ref)? $($plain)?),)*)
    };
    ($dir:ident $lt:lifetime; [-> $($shape:tt)+]) => {
        $crate::__protocol_ty!($dir $lt; $($shape)+)
    };
}

/// Whether an operation's attributes include `#[idempotent]`.
#[doc(hidden)]
#[macro_export]
macro_rules! __protocol_idempotent {
    ([[idempotent] $($rest:tt)*]) => { true };
    ([[$($attr:tt)*] $($rest:tt)*]) => { $crate::__protocol_idempotent!([$($rest)*]) };
    ([]) => { false };
}

/// Emits an item with an operation's attributes, except `#[idempotent]`
/// (the macro's own, which the compiler would not know).
#[doc(hidden)]
#[macro_export]
macro_rules! __protocol_item {
    ([[idempotent] $($rest:tt)*] [$($kept:tt)*] $($item:tt)*) => {
        $crate::__protocol_item! { [$($rest)*] [$($kept)*] $($item)* }
    };
    ([[$($attr:tt)*] $($rest:tt)*] [$($kept:tt)*] $($item:tt)*) => {
        $crate::__protocol_item! { [$($rest)*] [$($kept)* #[$($attr)*]] $($item)* }
    };
    ([] [$($kept:tt)*] $($item:tt)*) => {
        $($kept)* $($item)*
    };
}
