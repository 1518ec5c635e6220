//! One queue's two ends: [`Producer`] and [`Consumer`], each keeping its
//! own state privately and trusting nothing it reads from the region.
//!
//! Rules, for both ends:
//!
//! - A side's own index lives in the side, not in the region: it stores
//!   the index there to publish it, and never reads it back.
//! - The peer's index is loaded once per batch ([`Consumer::poll`],
//!   [`Producer::refresh`]) and checked against what is possible before
//!   anything is done with it. Indices are free-running `u32`s and wrap,
//!   so every difference is a `wrapping_sub`.
//! - The consumer copies each entry out of its slot once, into a local
//!   value, and checks that copy ([`Consumer::pop`]); it publishes its
//!   index (a `Release` store) only after, which is what hands the slots
//!   back ([`Consumer::release`]).
//! - The producer writes entries into slots it owns (between its tail and
//!   the consumer's head plus the size) and publishes its tail afterwards
//!   with a `Release` store ([`Producer::publish`]).
//! - A broken rule poisons the end: it returns [`Error::Hostile`] with the
//!   same [`Reason`] from then on and never touches the region again.
//!
//! Wake-ups: a consumer with nothing to do sets its "sleeps" flag, fences,
//! and loads the producer's index again; only if it is still unchanged
//! does it wait on that index word, expecting the value it read. A
//! producer stores its index, fences, and loads the flag; it wakes the
//! word only if the flag is set. With the two fences, either the consumer
//! sees the new index or the producer sees the flag (the store-buffer
//! pattern with `SeqCst` fences), and a wait that starts after the index
//! changed returns at once, so no wake-up is lost. A batch published at
//! once costs at most one wake. A producer waiting for room does the same
//! with its own "waits" flag and the consumer's index.

use core::marker::PhantomData;

use crate::entry::{Entry, MAX_ENTRY_WORDS};
use crate::{Error, Hostile, Memory, QueueLayout, Reason, Waker};

/// Whether an end is still usable.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Health {
    Fine,
    Poisoned(Reason),
}

impl Health {
    fn check(self) -> Result<(), Error> {
        match self {
            Health::Fine => Ok(()),
            Health::Poisoned(reason) => Err(Error::Hostile(Hostile { reason })),
        }
    }
}

/// The end of a queue that takes entries out.
#[derive(Debug)]
pub struct Consumer<E> {
    queue: QueueLayout,
    /// The next entry to take (private; published by `release`).
    head: u32,
    /// The value of `head` last published.
    published: u32,
    /// The producer's index as last loaded and checked.
    tail: u32,
    /// This end's "sleeps" flag is up as it last stored it (left up
    /// between waits that answer a blocked peer, `Waker::answers_peer`).
    flag_up: bool,
    health: Health,
    entry: PhantomData<E>,
}

impl<E: Entry> Consumer<E> {
    /// The consumer of `queue`, both indices starting at `start` (both
    /// sides must agree on it; 0 for a new ring).
    pub fn new(queue: QueueLayout, start: u32) -> Consumer<E> {
        Consumer {
            queue,
            head: start,
            published: start,
            tail: start,
            flag_up: false,
            health: Health::Fine,
            entry: PhantomData,
        }
    }

    /// The reason it was poisoned, if it was.
    pub fn poisoned(&self) -> Option<Reason> {
        match self.health {
            Health::Fine => None,
            Health::Poisoned(reason) => Some(reason),
        }
    }

    /// The next entry to take.
    pub fn head(&self) -> u32 {
        self.head
    }

    /// The producer's index as last loaded and checked.
    pub fn seen(&self) -> u32 {
        self.tail
    }

    /// The offset of the producer's index word (the word a sleeping
    /// consumer waits on).
    pub fn producer_word(&self) -> usize {
        self.queue.producer_index
    }

    /// Entries of the current batch not yet taken.
    pub fn ready(&self) -> u32 {
        self.tail.wrapping_sub(self.head)
    }

    fn poison(&mut self, reason: Reason) -> Error {
        self.health = Health::Poisoned(reason);
        Error::Hostile(Hostile { reason })
    }

    /// Publishes this end's index as it is now (a side attaching to a ring
    /// resets what the peer may have written there).
    pub fn publish_start<M: Memory + ?Sized>(&mut self, memory: &M) -> Result<(), Error> {
        self.health.check()?;
        memory.store_u32(self.queue.consumer_index, self.head);
        self.published = self.head;
        Ok(())
    }

    /// Loads the producer's index, once, and checks it: returns how many
    /// entries are ready.
    ///
    /// # Errors
    /// [`Reason::IndexTooFar`] if it is more than the queue's size ahead
    /// of this end's index, [`Reason::IndexRetreated`] if it is behind
    /// where it was.
    pub fn poll<M: Memory + ?Sized>(&mut self, memory: &M) -> Result<u32, Error> {
        self.health.check()?;
        self.poll_live(memory)
    }

    /// [`poll`](Consumer::poll) for an end known not to be poisoned: the
    /// sides look at their own verdict (which every hostile verdict of
    /// their ends reaches) once per call, so their ends do not again.
    #[inline]
    pub(crate) fn poll_live<M: Memory + ?Sized>(&mut self, memory: &M) -> Result<u32, Error> {
        let tail = memory.load_u32(self.queue.producer_index);
        let ready = tail.wrapping_sub(self.head);
        if ready > self.queue.entries {
            return Err(self.poison(Reason::IndexTooFar));
        }
        if ready < self.ready() {
            return Err(self.poison(Reason::IndexRetreated));
        }
        self.tail = tail;
        Ok(ready)
    }

    /// Takes the next entry of the batch [`poll`](Consumer::poll) found:
    /// copies it out of its slot once, then checks the copy with `check`.
    /// `None` when the batch is used up (nothing is loaded then).
    ///
    /// # Errors
    /// The reason `check` gives.
    pub fn pop<M: Memory + ?Sized>(
        &mut self,
        memory: &M,
        check: impl FnOnce(&E) -> Result<(), Reason>,
    ) -> Result<Option<E>, Error> {
        self.health.check()?;
        self.pop_live(memory, check)
    }

    /// [`pop`](Consumer::pop) for an end known not to be poisoned (see
    /// [`poll_live`](Consumer::poll_live)).
    #[inline]
    pub(crate) fn pop_live<M: Memory + ?Sized>(
        &mut self,
        memory: &M,
        check: impl FnOnce(&E) -> Result<(), Reason>,
    ) -> Result<Option<E>, Error> {
        if self.head == self.tail {
            return Ok(None);
        }
        let mut words = [0u32; MAX_ENTRY_WORDS];
        let words = &mut words[..E::WORDS];
        memory.read_words(self.queue.slot(self.head, E::BYTES), words);
        let entry = E::decode(words);
        if let Err(reason) = check(&entry) {
            return Err(self.poison(reason));
        }
        self.head = self.head.wrapping_add(1);
        Ok(Some(entry))
    }

    /// Publishes this end's index, handing the slots taken back to the
    /// producer, and wakes the producer if it waits for room. Returns
    /// whether it woke it.
    ///
    /// # Errors
    /// The poisoned end's reason.
    pub fn release<M: Memory + ?Sized, W: Waker<M> + ?Sized>(
        &mut self,
        memory: &M,
        waker: &W,
    ) -> Result<bool, Error> {
        self.health.check()?;
        Ok(self.release_live(memory, waker))
    }

    /// [`release`](Consumer::release) for an end known not to be poisoned
    /// (see [`poll_live`](Consumer::poll_live)).
    #[inline]
    pub(crate) fn release_live<M: Memory + ?Sized, W: Waker<M> + ?Sized>(
        &mut self,
        memory: &M,
        waker: &W,
    ) -> bool {
        if self.head == self.published {
            return false;
        }
        self.published = self.head;
        publish_index(
            memory,
            waker,
            self.queue.consumer_index,
            self.head,
            self.queue.producer_waits,
        )
    }

    /// Returns how many entries are ready, sleeping first if none are:
    /// until the producer publishes, a wake-up, or `deadline`. It sleeps
    /// at most once, so it may return 0 (a wake-up with nothing new, as
    /// when the owner of the ring wakes its own thread to stop it): the
    /// caller loops.
    ///
    /// # Errors
    /// [`Error::TimedOut`] if the deadline passed with nothing ready; a
    /// reason from [`poll`](Consumer::poll).
    pub fn wait<M: Memory + ?Sized, W: Waker<M> + ?Sized>(
        &mut self,
        memory: &M,
        waker: &W,
        deadline: Option<u64>,
    ) -> Result<u32, Error> {
        self.health.check()?;
        self.wait_live(memory, waker, deadline, true)
    }

    /// [`wait`](Consumer::wait) for an end known not to be poisoned (see
    /// [`poll_live`](Consumer::poll_live)). With `look_first` false it
    /// sets its flag before its first look at the producer's index: one
    /// load fewer for a consumer that expects nothing (it has just taken
    /// a batch, and its producer waits for the answers), at the price of
    /// the flag being set for a moment when there is work.
    #[inline]
    pub(crate) fn wait_live<M: Memory + ?Sized, W: Waker<M> + ?Sized>(
        &mut self,
        memory: &M,
        waker: &W,
        deadline: Option<u64>,
        look_first: bool,
    ) -> Result<u32, Error> {
        if waker.answers_peer() && self.head == self.tail {
            return self.wait_answering(memory, waker, deadline);
        }
        let (flag, word) = (self.queue.consumer_sleeps, self.queue.producer_index);
        if self.flag_up {
            // Left up for a blocked producer, with entries still to take
            // (the usual protocol finds them): down, as that protocol
            // leaves it.
            memory.store_u32(flag, 0);
            self.flag_up = false;
        }
        sleep_once(
            memory,
            waker,
            flag,
            word,
            deadline,
            look_first,
            self,
            |this| {
                let ready = this.poll_live(memory)?;
                Ok((ready, this.tail))
            },
        )
    }

    /// [`wait_live`](Consumer::wait_live) when the producer is blocked
    /// until this wait answers it (`Waker::answers_peer`) and every entry
    /// seen was taken: the producer has published nothing since the last
    /// look (it published, then blocked), and looks at the flag only once
    /// answered, so the flag needs no fence and the index no second look
    /// before the wait. The flag goes up once and stays up while each
    /// wake-up is such a blocking call again (the producer cannot look
    /// at it meanwhile); a wake-up of another kind brings it down before
    /// the look, as in `sleep_once`. A producer that publishes while it
    /// should be blocked (another of its threads) only delays its own
    /// entries until its next wake-up.
    #[inline]
    fn wait_answering<M: Memory + ?Sized, W: Waker<M> + ?Sized>(
        &mut self,
        memory: &M,
        waker: &W,
        deadline: Option<u64>,
    ) -> Result<u32, Error> {
        let flag = self.queue.consumer_sleeps;
        if !self.flag_up {
            memory.store_u32(flag, 1);
            self.flag_up = true;
        }
        let slept = waker.wait(memory, self.queue.producer_index, self.tail, deadline);
        if !waker.answers_peer() {
            memory.store_u32(flag, 0);
            self.flag_up = false;
        }
        match (self.poll_live(memory)?, slept) {
            (0, Err(_)) => Err(Error::TimedOut),
            (ready, _) => Ok(ready),
        }
    }
}

/// The end of a queue that puts entries in.
#[derive(Debug)]
pub struct Producer<E> {
    queue: QueueLayout,
    /// The next slot to fill (private; published by `publish`).
    tail: u32,
    /// The value of `tail` last published.
    published: u32,
    /// The consumer's index as last loaded and checked.
    head: u32,
    health: Health,
    entry: PhantomData<E>,
}

impl<E: Entry> Producer<E> {
    /// The producer of `queue`, both indices starting at `start`.
    pub fn new(queue: QueueLayout, start: u32) -> Producer<E> {
        Producer {
            queue,
            tail: start,
            published: start,
            head: start,
            health: Health::Fine,
            entry: PhantomData,
        }
    }

    /// The reason it was poisoned, if it was.
    pub fn poisoned(&self) -> Option<Reason> {
        match self.health {
            Health::Fine => None,
            Health::Poisoned(reason) => Some(reason),
        }
    }

    /// The next slot to fill.
    pub fn tail(&self) -> u32 {
        self.tail
    }

    /// The index last published.
    pub fn published(&self) -> u32 {
        self.published
    }

    /// Free slots, as of the last [`refresh`](Producer::refresh).
    pub fn room(&self) -> u32 {
        self.queue.entries - self.tail.wrapping_sub(self.head)
    }

    /// Entries pushed and not yet published.
    pub fn pending(&self) -> u32 {
        self.tail.wrapping_sub(self.published)
    }

    fn poison(&mut self, reason: Reason) -> Error {
        self.health = Health::Poisoned(reason);
        Error::Hostile(Hostile { reason })
    }

    /// Publishes this end's index as it is now (see
    /// [`Consumer::publish_start`]).
    pub fn publish_start<M: Memory + ?Sized>(&mut self, memory: &M) -> Result<(), Error> {
        self.health.check()?;
        memory.store_u32(self.queue.producer_index, self.tail);
        self.published = self.tail;
        Ok(())
    }

    /// Loads the consumer's index, once, and checks it: returns the free
    /// slots.
    ///
    /// # Errors
    /// [`Reason::ConsumerAhead`] if it moved back, or past what this end
    /// published.
    pub fn refresh<M: Memory + ?Sized>(&mut self, memory: &M) -> Result<u32, Error> {
        self.health.check()?;
        self.refresh_live(memory)
    }

    /// [`refresh`](Producer::refresh) for an end known not to be poisoned
    /// (see [`Consumer::poll_live`]).
    #[inline]
    pub(crate) fn refresh_live<M: Memory + ?Sized>(&mut self, memory: &M) -> Result<u32, Error> {
        let head = memory.load_u32(self.queue.consumer_index);
        // Since the last look the consumer may have taken only entries
        // that were published; a move back shows as a huge number.
        if head.wrapping_sub(self.head) > self.published.wrapping_sub(self.head) {
            return Err(self.poison(Reason::ConsumerAhead));
        }
        self.head = head;
        Ok(self.room())
    }

    /// Writes `entry` into the next free slot, unpublished. Looks at the
    /// consumer's index only when the last look found no room.
    ///
    /// # Errors
    /// [`Error::Full`], or a reason from [`refresh`](Producer::refresh).
    pub fn push<M: Memory + ?Sized>(&mut self, memory: &M, entry: &E) -> Result<(), Error> {
        self.health.check()?;
        self.push_live(memory, entry)
    }

    /// [`push`](Producer::push) for an end known not to be poisoned (see
    /// [`Consumer::poll_live`]).
    #[inline]
    pub(crate) fn push_live<M: Memory + ?Sized>(
        &mut self,
        memory: &M,
        entry: &E,
    ) -> Result<(), Error> {
        if self.room() == 0 && self.refresh_live(memory)? == 0 {
            return Err(Error::Full);
        }
        self.push_into_room(memory, entry);
        Ok(())
    }

    /// Writes `entry` into the next slot, for a caller that has seen room
    /// for it ([`room`](Producer::room) > 0) since its last push. Pushing
    /// without room would overwrite a slot the consumer has not released
    /// (the ring's own bookkeeping broken, never memory safety).
    #[inline]
    pub(crate) fn push_into_room<M: Memory + ?Sized>(&mut self, memory: &M, entry: &E) {
        debug_assert!(self.room() > 0, "ring: a push without room");
        let mut words = [0u32; MAX_ENTRY_WORDS];
        let words = &mut words[..E::WORDS];
        entry.encode(words);
        memory.write_words(self.queue.slot(self.tail, E::BYTES), words);
        self.tail = self.tail.wrapping_add(1);
    }

    /// Publishes every entry pushed so far and wakes the consumer if it
    /// sleeps: one store, one fence, one load, at most one wake for the
    /// whole batch. Returns whether it woke it.
    ///
    /// # Errors
    /// The poisoned end's reason.
    pub fn publish<M: Memory + ?Sized, W: Waker<M> + ?Sized>(
        &mut self,
        memory: &M,
        waker: &W,
    ) -> Result<bool, Error> {
        self.health.check()?;
        Ok(self.publish_live(memory, waker))
    }

    /// [`publish`](Producer::publish) for an end known not to be poisoned
    /// (see [`Consumer::poll_live`]).
    #[inline]
    pub(crate) fn publish_live<M: Memory + ?Sized, W: Waker<M> + ?Sized>(
        &mut self,
        memory: &M,
        waker: &W,
    ) -> bool {
        if self.tail == self.published {
            return false;
        }
        self.published = self.tail;
        publish_index(
            memory,
            waker,
            self.queue.producer_index,
            self.tail,
            self.queue.consumer_sleeps,
        )
    }

    /// Publishes every entry pushed so far without looking at the
    /// consumer's flag: for a producer that wakes the consumer another
    /// way next (an IPC call, [`Waker::wait_wakes_peer`]). One store.
    ///
    /// # Errors
    /// The poisoned end's reason.
    #[inline]
    pub fn publish_quiet<M: Memory + ?Sized>(&mut self, memory: &M) -> Result<(), Error> {
        self.health.check()?;
        self.publish_quiet_live(memory);
        Ok(())
    }

    /// [`publish_quiet`](Producer::publish_quiet) for an end known not to
    /// be poisoned (see [`Consumer::poll_live`]).
    #[inline]
    pub(crate) fn publish_quiet_live<M: Memory + ?Sized>(&mut self, memory: &M) {
        if self.tail != self.published {
            self.published = self.tail;
            memory.store_u32(self.queue.producer_index, self.tail);
        }
    }

    /// Returns the free slots, sleeping first if there are none: until
    /// the consumer releases some, a wake-up, or `deadline`. Like
    /// [`Consumer::wait`] it sleeps at most once and may return 0.
    ///
    /// # Errors
    /// [`Error::TimedOut`] if the deadline passed with no room; a reason
    /// from [`refresh`](Producer::refresh).
    pub fn wait_room<M: Memory + ?Sized, W: Waker<M> + ?Sized>(
        &mut self,
        memory: &M,
        waker: &W,
        deadline: Option<u64>,
    ) -> Result<u32, Error> {
        self.health.check()?;
        self.wait_room_live(memory, waker, deadline)
    }

    /// [`wait_room`](Producer::wait_room) for an end known not to be
    /// poisoned (see [`Consumer::poll_live`]).
    #[inline]
    pub(crate) fn wait_room_live<M: Memory + ?Sized, W: Waker<M> + ?Sized>(
        &mut self,
        memory: &M,
        waker: &W,
        deadline: Option<u64>,
    ) -> Result<u32, Error> {
        let (flag, word) = (self.queue.producer_waits, self.queue.consumer_index);
        sleep_once(memory, waker, flag, word, deadline, true, self, |this| {
            let room = this.refresh_live(memory)?;
            Ok((room, this.head))
        })
    }
}

/// The publishing half of the wake-up protocol (module docs): stores
/// `value` at `index`, fences, and wakes the peer waiting on `index` if
/// its `peer_flag` is set. Returns whether it woke it.
#[inline]
fn publish_index<M: Memory + ?Sized, W: Waker<M> + ?Sized>(
    memory: &M,
    waker: &W,
    index: usize,
    value: u32,
    peer_flag: usize,
) -> bool {
    memory.store_u32(index, value);
    if !waker.peer_may_sleep() {
        return false;
    }
    memory.fence();
    if memory.load_u32(peer_flag) != 0 {
        waker.wake(memory, index);
        return true;
    }
    false
}

/// The sleeping half (module docs), for either end: `check` loads the
/// peer's index (through the end's own checks) and returns what is
/// available and the peer index it saw. With nothing available the end
/// sets its `flag`, fences, checks again, and only then waits on the
/// peer's index `word`, expecting the value it saw; it sleeps at most
/// once, so it may return 0. Without `look_first` it sets the flag
/// before its first check (the protocol needs only the check after the
/// fence; the one before saves the flag's two stores when there is work).
#[inline]
#[allow(clippy::too_many_arguments)]
fn sleep_once<M, W, S>(
    memory: &M,
    waker: &W,
    flag: usize,
    word: usize,
    deadline: Option<u64>,
    look_first: bool,
    end: &mut S,
    mut check: impl FnMut(&mut S) -> Result<(u32, u32), Error>,
) -> Result<u32, Error>
where
    M: Memory + ?Sized,
    W: Waker<M> + ?Sized,
{
    if look_first {
        let (available, _) = check(end)?;
        if available > 0 {
            return Ok(available);
        }
    }
    memory.store_u32(flag, 1);
    memory.fence();
    let again = check(end);
    let slept = match again {
        Ok((0, seen)) => waker.wait(memory, word, seen, deadline),
        _ => Ok(()),
    };
    memory.store_u32(flag, 0);
    match again? {
        (0, _) => {}
        (available, _) => return Ok(available),
    }
    match (check(end)?.0, slept) {
        (0, Err(_)) => Err(Error::TimedOut),
        (available, _) => Ok(available),
    }
}
