//! The two sides of a ring: the [`Client`] submits and takes
//! completions, the [`Server`] takes submissions and completes them.
//!
//! The client creates the ring (it writes the header) and tells the
//! server the geometry by some other channel (an IPC call); the server
//! computes the layout from that geometry and checks the header against
//! it. Each side then owns two queue ends: the client the submission
//! queue's producer and the completion queue's consumer, the server the
//! opposite.
//!
//! The client keeps at most `cq_entries` submissions in flight, so the
//! server always has room for their completions once the client has taken
//! the earlier ones; a completion queue with more completions than
//! submissions in flight is the server's fault
//! ([`Reason::UnexpectedCompletion`]). The server takes a submission only
//! when it has a completion slot for it.

use crate::entry::check_cqe;
use crate::{
    Consumer, Cqe, Error, Geometry, Layout, Memory, Producer, Reason, SetupError, Sqe, SqeRules,
    Waker,
};

/// The side that submits requests and takes their completions.
#[derive(Debug)]
pub struct Client<M, W> {
    memory: M,
    waker: W,
    layout: Layout,
    sq: Producer<Sqe>,
    cq: Consumer<Cqe>,
    /// Submissions pushed whose completions have not been taken.
    in_flight: u32,
    /// Submissions published whose completions have not been taken: the
    /// most completions the server can have posted.
    published_in_flight: u32,
    /// Wakes issued to the server.
    wakes: u64,
    /// A rule the server broke that neither queue end saw.
    poisoned: Option<Reason>,
}

impl<M: Memory, W: Waker<M>> Client<M, W> {
    /// Creates a ring in `memory`: writes its header and zeroes its
    /// indices.
    ///
    /// # Errors
    /// [`SetupError::BadGeometry`], [`SetupError::TooSmall`].
    pub fn create(memory: M, waker: W, geometry: Geometry) -> Result<Self, SetupError> {
        Self::create_at(memory, waker, geometry, 0)
    }

    /// Like [`create`](Client::create), with every index starting at
    /// `start` (the server must be told; for tests of wrapping).
    ///
    /// # Errors
    /// As [`create`](Client::create).
    pub fn create_at(
        memory: M,
        waker: W,
        geometry: Geometry,
        start: u32,
    ) -> Result<Self, SetupError> {
        let layout = Layout::new(geometry)?;
        layout.write_header(&memory)?;
        let mut sq = Producer::new(layout.sq_queue(), start);
        let mut cq = Consumer::new(layout.cq_queue(), start);
        // Fresh ends cannot be poisoned.
        let _ = sq.publish_start(&memory);
        let _ = cq.publish_start(&memory);
        // The server's indices start where ours do.
        memory.store_u32(crate::offset::SQ_HEAD, start);
        memory.store_u32(crate::offset::CQ_TAIL, start);
        Ok(Client {
            memory,
            waker,
            layout,
            sq,
            cq,
            in_flight: 0,
            published_in_flight: 0,
            wakes: 0,
            poisoned: None,
        })
    }

    /// The same client with another waker: for a ring whose wake-ups the
    /// server gives when it attaches (`crate::doorbell`), after
    /// [`create`](Client::create) wrote the header it attaches to.
    pub fn with_waker<V: Waker<M>>(self, waker: V) -> Client<M, V> {
        Client {
            memory: self.memory,
            waker,
            layout: self.layout,
            sq: self.sq,
            cq: self.cq,
            in_flight: self.in_flight,
            published_in_flight: self.published_in_flight,
            wakes: self.wakes,
            poisoned: self.poisoned,
        }
    }

    /// The waker.
    pub fn waker(&self) -> &W {
        &self.waker
    }

    /// The layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The region.
    pub fn memory(&self) -> &M {
        &self.memory
    }

    /// Submissions whose completions have not been taken.
    pub fn in_flight(&self) -> u32 {
        self.in_flight
    }

    /// How many wakes this client has issued to the server.
    pub fn wakes(&self) -> u64 {
        self.wakes
    }

    /// The reason the ring was found hostile, if it was.
    pub fn poisoned(&self) -> Option<Reason> {
        self.poisoned.or(self.sq.poisoned()).or(self.cq.poisoned())
    }

    /// The verdict, if any: one compare, since every hostile verdict a
    /// queue end gives passes through [`note`](Client::note) into
    /// `poisoned`.
    #[inline]
    fn poisoned_error(&self) -> Result<(), Error> {
        match self.poisoned {
            Some(reason) => Err(Error::Hostile(crate::Hostile { reason })),
            None => Ok(()),
        }
    }

    /// Records a queue end's hostile verdict in `poisoned`.
    #[inline]
    fn note<T>(&mut self, result: Result<T, Error>) -> Result<T, Error> {
        if let Err(Error::Hostile(hostile)) = &result {
            self.poisoned = Some(hostile.reason);
        }
        result
    }

    /// Writes `data` at `offset` of the data area (the client's own
    /// bookkeeping decides which parts are free).
    ///
    /// # Errors
    /// [`Error::Full`] if it does not fit.
    pub fn write_data(&self, offset: u32, data: &[u8]) -> Result<(), Error> {
        let end = (offset as usize)
            .checked_add(data.len())
            .ok_or(Error::Full)?;
        if end > self.layout.geometry.data_bytes as usize {
            return Err(Error::Full);
        }
        self.memory
            .write_bytes(self.layout.data + offset as usize, data);
        Ok(())
    }

    /// Reads `out.len()` bytes at `offset` of the data area.
    ///
    /// # Errors
    /// [`Error::Full`] if the range leaves the data area.
    pub fn read_data(&self, offset: u32, out: &mut [u8]) -> Result<(), Error> {
        let end = (offset as usize)
            .checked_add(out.len())
            .ok_or(Error::Full)?;
        if end > self.layout.geometry.data_bytes as usize {
            return Err(Error::Full);
        }
        self.memory
            .read_bytes(self.layout.data + offset as usize, out);
        Ok(())
    }

    /// Queues `sqe` without publishing it.
    ///
    /// # Errors
    /// [`Error::Full`] if the submission queue is full or `cq_entries`
    /// submissions are in flight; a hostile verdict.
    pub fn push(&mut self, sqe: &Sqe) -> Result<(), Error> {
        self.poisoned_error()?;
        if self.in_flight >= self.layout.geometry.cq_entries {
            return Err(Error::Full);
        }
        let pushed = self.sq.push_live(&self.memory, sqe);
        self.note(pushed)?;
        self.in_flight += 1;
        Ok(())
    }

    /// Publishes everything pushed and wakes the server if it sleeps (at
    /// most one wake). Returns whether it woke it.
    ///
    /// # Errors
    /// A hostile verdict.
    pub fn submit(&mut self) -> Result<bool, Error> {
        self.poisoned_error()?;
        self.published_in_flight += self.sq.pending();
        let woke = self.sq.publish_live(&self.memory, &self.waker);
        self.wakes += u64::from(woke);
        Ok(woke)
    }

    /// Publishes everything pushed and waits for completions: what
    /// [`submit`](Client::submit) then [`wait`](Client::wait) do. When the
    /// waker's wait wakes the server itself ([`Waker::wait_wakes_peer`]:
    /// an IPC call, answered once the server has served what it found),
    /// the tail is published with one store and the wait comes at once,
    /// whatever the server's flag says: one syscall for the round trip.
    /// Returns how many completions are ready (possibly 0: loop on
    /// [`wait`](Client::wait)).
    ///
    /// # Errors
    /// [`Error::TimedOut`], a hostile verdict.
    pub fn submit_and_wait(&mut self, deadline: Option<u64>) -> Result<u32, Error> {
        if !self.waker.wait_wakes_peer() {
            self.submit()?;
            return self.wait(deadline);
        }
        self.poisoned_error()?;
        self.published_in_flight += self.sq.pending();
        self.sq.publish_quiet_live(&self.memory);
        let (word, seen) = (self.cq.producer_word(), self.cq.seen());
        let slept = self.waker.wait(&self.memory, word, seen, deadline);
        match self.poll()? {
            0 if slept.is_err() => Err(Error::TimedOut),
            ready => Ok(ready),
        }
    }

    /// Loads the completion queue's tail once: returns how many
    /// completions are ready.
    ///
    /// # Errors
    /// A hostile verdict, [`Reason::UnexpectedCompletion`] among others.
    pub fn poll(&mut self) -> Result<u32, Error> {
        self.poisoned_error()?;
        let ready = self.cq.poll_live(&self.memory);
        let ready = self.note(ready)?;
        self.check_ready(ready)
    }

    fn check_ready(&mut self, ready: u32) -> Result<u32, Error> {
        if ready > self.published_in_flight {
            return Err(self.poison(Reason::UnexpectedCompletion));
        }
        Ok(ready)
    }

    fn poison(&mut self, reason: Reason) -> Error {
        self.poisoned = Some(reason);
        Error::Hostile(crate::Hostile { reason })
    }

    /// Returns how many completions are ready, sleeping first if none
    /// are (at most once: it may return 0 after a wake-up; loop).
    ///
    /// # Errors
    /// [`Error::TimedOut`], a hostile verdict.
    pub fn wait(&mut self, deadline: Option<u64>) -> Result<u32, Error> {
        self.poisoned_error()?;
        let ready = self.cq.wait_live(&self.memory, &self.waker, deadline, true);
        let ready = self.note(ready)?;
        self.check_ready(ready)
    }

    /// Takes the next completion of the batch [`poll`](Client::poll) or
    /// [`wait`](Client::wait) found, checked; `None` when it is used up.
    ///
    /// # Errors
    /// A hostile verdict.
    pub fn pop(&mut self) -> Result<Option<Cqe>, Error> {
        self.poisoned_error()?;
        let cqe = self.cq.pop_live(&self.memory, check_cqe);
        let cqe = self.note(cqe)?;
        if cqe.is_some() {
            self.in_flight -= 1;
            self.published_in_flight -= 1;
        }
        Ok(cqe)
    }

    /// Hands the completion slots taken back to the server, waking it if
    /// it waits for room.
    ///
    /// # Errors
    /// A hostile verdict.
    pub fn release(&mut self) -> Result<(), Error> {
        self.poisoned_error()?;
        self.cq.release_live(&self.memory, &self.waker);
        Ok(())
    }
}

/// One submission as the server's handler sees it: the checked copy of
/// its descriptor, and access to its data range (checked to lie inside the
/// data area; the client may still change the bytes at any moment, so
/// read each once).
#[derive(Debug)]
pub struct Request<'a, M: ?Sized> {
    /// The descriptor, as copied out of its slot.
    pub sqe: Sqe,
    memory: &'a M,
    /// The first byte of the data range in the region.
    data: usize,
}

impl<M: Memory + ?Sized> Request<'_, M> {
    /// Copies bytes of the data range from `at` into `out`; returns how
    /// many (fewer when the range ends first).
    pub fn read(&self, at: u32, out: &mut [u8]) -> usize {
        let n = (self.sqe.len.saturating_sub(at) as usize).min(out.len());
        if n > 0 {
            self.memory
                .read_bytes(self.data + at as usize, &mut out[..n]);
        }
        n
    }

    /// Copies `bytes` into the data range from `at`; returns how many
    /// (fewer when the range ends first).
    pub fn write(&self, at: u32, bytes: &[u8]) -> usize {
        let n = (self.sqe.len.saturating_sub(at) as usize).min(bytes.len());
        if n > 0 {
            self.memory
                .write_bytes(self.data + at as usize, &bytes[..n]);
        }
        n
    }
}

/// What a handler answers: the completion's `status` and `value` (its
/// `user_data` is the submission's).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Completion {
    /// 0 for success, else an operation-defined code.
    pub status: u16,
    /// An operation-defined result.
    pub value: u32,
}

/// The side that takes submissions and completes them.
#[derive(Debug)]
pub struct Server<M, W> {
    memory: M,
    waker: W,
    layout: Layout,
    rules: SqeRules,
    sq: Consumer<Sqe>,
    cq: Producer<Cqe>,
    /// Submissions completed.
    served: u64,
    /// Wakes issued to the client.
    wakes: u64,
    /// The verdict of either queue end, once there is one.
    poisoned: Option<Reason>,
    /// The last batch served something: the next wait sets its flag
    /// before it looks at the SQ tail (`Consumer::wait_live`).
    just_served: bool,
}

impl<M: Memory, W: Waker<M>> Server<M, W> {
    /// Attaches to the ring the client made in `memory` with `geometry`
    /// (which the server was told, not read from the region), accepting
    /// submissions that pass `rules`.
    ///
    /// # Errors
    /// [`SetupError::BadGeometry`], [`SetupError::TooSmall`],
    /// [`SetupError::BadHeader`].
    pub fn attach(
        memory: M,
        waker: W,
        geometry: Geometry,
        rules: SqeRules,
    ) -> Result<Self, SetupError> {
        Self::attach_at(memory, waker, geometry, rules, 0)
    }

    /// Like [`attach`](Server::attach), with every index starting at
    /// `start`.
    ///
    /// # Errors
    /// As [`attach`](Server::attach).
    pub fn attach_at(
        memory: M,
        waker: W,
        geometry: Geometry,
        rules: SqeRules,
        start: u32,
    ) -> Result<Self, SetupError> {
        let layout = Layout::new(geometry)?;
        layout.check_header(&memory)?;
        let mut sq = Consumer::new(layout.sq_queue(), start);
        let mut cq = Producer::new(layout.cq_queue(), start);
        // Our indices are ours: whatever the client left there goes.
        let _ = sq.publish_start(&memory);
        let _ = cq.publish_start(&memory);
        Ok(Server {
            memory,
            waker,
            layout,
            rules,
            sq,
            cq,
            served: 0,
            wakes: 0,
            poisoned: None,
            just_served: false,
        })
    }

    /// The layout.
    pub fn layout(&self) -> &Layout {
        &self.layout
    }

    /// The region.
    pub fn memory(&self) -> &M {
        &self.memory
    }

    /// The waker.
    pub fn waker(&self) -> &W {
        &self.waker
    }

    /// Submissions completed so far.
    pub fn served(&self) -> u64 {
        self.served
    }

    /// Wakes issued to the client so far.
    pub fn wakes(&self) -> u64 {
        self.wakes
    }

    /// The reason the ring was found hostile, if it was.
    pub fn poisoned(&self) -> Option<Reason> {
        self.poisoned.or(self.sq.poisoned()).or(self.cq.poisoned())
    }

    /// The verdict, if any: one compare (see [`note`](Server::note)).
    #[inline]
    fn check(&self) -> Result<(), Error> {
        match self.poisoned {
            Some(reason) => Err(Error::Hostile(crate::Hostile { reason })),
            None => Ok(()),
        }
    }

    /// Records a hostile verdict in `poisoned`.
    #[inline]
    fn note<T>(&mut self, result: Result<T, Error>) -> Result<T, Error> {
        if let Err(Error::Hostile(hostile)) = &result {
            self.poisoned = Some(hostile.reason);
        }
        result
    }

    /// Serves one batch without sleeping: loads the submission queue's
    /// tail once, takes as many submissions as there are completion slots
    /// for (loading the completion queue's head only if the room last
    /// seen is short), gives each to `handler` and posts its completion,
    /// then publishes both indices (at most one wake each way). Returns
    /// how many it served.
    ///
    /// # Errors
    /// A hostile verdict: the ring is poisoned, and completions of this
    /// batch are never published.
    pub fn serve(
        &mut self,
        handler: impl FnMut(&Request<'_, M>) -> Completion,
    ) -> Result<u32, Error> {
        self.check()?;
        let served = self.serve_inner(handler);
        self.note(served)
    }

    fn serve_inner(
        &mut self,
        handler: impl FnMut(&Request<'_, M>) -> Completion,
    ) -> Result<u32, Error> {
        let ready = self.sq.poll_live(&self.memory)?;
        if ready == 0 {
            return Ok(0);
        }
        let room = self.room_for(ready)?;
        self.serve_batch(ready, room, handler)
    }

    /// The completion slots free, as last seen, or loaded again if fewer
    /// than `ready` were.
    #[inline]
    fn room_for(&mut self, ready: u32) -> Result<u32, Error> {
        match self.cq.room() {
            room if room >= ready => Ok(room),
            _ => self.cq.refresh_live(&self.memory),
        }
    }

    /// Serves the `ready` (at least one) submissions the last look at the
    /// SQ tail found, as many as there are completion slots for (`room`).
    fn serve_batch(
        &mut self,
        ready: u32,
        room: u32,
        mut handler: impl FnMut(&Request<'_, M>) -> Completion,
    ) -> Result<u32, Error> {
        let data_bytes = self.layout.geometry.data_bytes;
        let rules = self.rules;
        let mut served = 0;
        while served < ready.min(room) {
            let check = |sqe: &Sqe| rules.check(sqe, data_bytes);
            let Some(sqe) = self.sq.pop_live(&self.memory, check)? else {
                break;
            };
            let request = Request {
                sqe,
                memory: &self.memory,
                // Checked: offset + len <= data_bytes, and the region
                // holds the whole data area.
                data: self.layout.data + sqe.offset as usize,
            };
            let completion = handler(&request);
            let cqe = Cqe {
                user_data: sqe.user_data,
                status: completion.status,
                flags: 0,
                value: completion.value,
            };
            // The loop takes no more than `room` submissions.
            self.cq.push_into_room(&self.memory, &cqe);
            served += 1;
        }
        self.sq.release_live(&self.memory, &self.waker);
        let woke = self.cq.publish_live(&self.memory, &self.waker);
        self.wakes += u64::from(woke);
        self.served += u64::from(served);
        self.just_served = served > 0;
        Ok(served)
    }

    /// Sleeps until there are submissions (and room for their
    /// completions), then serves a batch; returns how many it served. It
    /// sleeps at most once, so it may return 0 after a wake-up with
    /// nothing to do: the caller loops (and may look at a stop flag).
    ///
    /// # Errors
    /// [`Error::TimedOut`] when `deadline` passes first; a hostile
    /// verdict.
    pub fn step(
        &mut self,
        deadline: Option<u64>,
        handler: impl FnMut(&Request<'_, M>) -> Completion,
    ) -> Result<u32, Error> {
        self.check()?;
        let served = self.step_inner(deadline, handler);
        self.note(served)
    }

    fn step_inner(
        &mut self,
        deadline: Option<u64>,
        handler: impl FnMut(&Request<'_, M>) -> Completion,
    ) -> Result<u32, Error> {
        // The batch the wait found is served as it is: the SQ tail is not
        // loaded again for it.
        let look_first = !self.just_served;
        self.just_served = false;
        let ready = self
            .sq
            .wait_live(&self.memory, &self.waker, deadline, look_first)?;
        if ready == 0 {
            return Ok(0);
        }
        let room = match self.room_for(ready)? {
            0 => self
                .cq
                .wait_room_live(&self.memory, &self.waker, deadline)?,
            room => room,
        };
        if room == 0 {
            return Ok(0);
        }
        self.serve_batch(ready, room, handler)
    }
}
