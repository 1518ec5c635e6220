//! Helpers the host tests share: a waker made of a mutex and a condition
//! variable, and a ring's standard geometry and rules.
#![allow(dead_code)] // each test file uses some of these

use std::sync::{Condvar, Mutex};
use std::time::{Duration, Instant};

use ring::{Memory, SqeRules, TimedOut, Waker};

/// A host waker: `wait` checks the word under the mutex and sleeps on the
/// condition variable; `wake` takes the mutex and wakes everyone, so a
/// wake after the word changed either finds the sleeper or the sleeper
/// saw the change. Deadlines are nanoseconds since the waker was made.
#[derive(Debug)]
pub struct CondvarWaker {
    lock: Mutex<u64>,
    wakes: Condvar,
    origin: Instant,
}

impl Default for CondvarWaker {
    fn default() -> Self {
        CondvarWaker {
            lock: Mutex::new(0),
            wakes: Condvar::new(),
            origin: Instant::now(),
        }
    }
}

impl CondvarWaker {
    /// A deadline `after` from now.
    pub fn deadline_after(&self, after: Duration) -> u64 {
        (self.origin.elapsed() + after).as_nanos() as u64
    }

    /// How many wakes were made.
    pub fn wakes(&self) -> u64 {
        *self.lock.lock().unwrap()
    }
}

impl<M: Memory + ?Sized> Waker<M> for CondvarWaker {
    fn wait(
        &self,
        memory: &M,
        offset: usize,
        expected: u32,
        deadline: Option<u64>,
    ) -> Result<(), TimedOut> {
        let guard = self.lock.lock().unwrap();
        if memory.load_u32(offset) != expected {
            return Ok(());
        }
        match deadline {
            None => drop(self.wakes.wait(guard).unwrap()),
            Some(deadline) => {
                let now = self.origin.elapsed().as_nanos() as u64;
                if now >= deadline {
                    return Err(TimedOut);
                }
                let (guard, result) = self
                    .wakes
                    .wait_timeout(guard, Duration::from_nanos(deadline - now))
                    .unwrap();
                drop(guard);
                if result.timed_out() {
                    return Err(TimedOut);
                }
            }
        }
        Ok(())
    }

    fn wake(&self, _: &M, _: usize) {
        *self.lock.lock().unwrap() += 1;
        self.wakes.notify_all();
    }
}

/// Opcodes 0 to 2, no flags.
pub const RULES: SqeRules = SqeRules {
    opcodes: 0b111,
    flags: 0,
};

/// What `ring::doorbell` does with IPC, on the host: a pending signal (a
/// bound notification's bit) and calls waiting to be taken and answered.
#[derive(Debug, Default)]
pub struct Doorbell {
    state: Mutex<BellState>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct BellState {
    signalled: bool,
    calls: u64,
    taken: u64,
    answered: u64,
}

/// The server's side of a [`Doorbell`]: `wait` answers the call taken
/// last, then sleeps until a signal or a call (`DoorbellWaker`'s
/// `ReplyRecv`); `wake` does nothing, since the client sleeps only in a
/// call.
#[derive(Debug)]
pub struct ServerBell {
    pub bell: std::sync::Arc<Doorbell>,
    pub owes: std::cell::Cell<Option<u64>>,
}

impl<M: Memory + ?Sized> Waker<M> for ServerBell {
    fn wait(&self, _: &M, _: usize, _: u32, _: Option<u64>) -> Result<(), TimedOut> {
        let mut state = self.bell.state.lock().unwrap();
        if let Some(call) = self.owes.take() {
            state.answered = call;
            self.bell.changed.notify_all();
        }
        while !state.signalled && state.calls == state.taken {
            state = self.bell.changed.wait(state).unwrap();
        }
        if state.signalled {
            state.signalled = false;
        } else {
            state.taken += 1;
            self.owes.set(Some(state.taken));
        }
        Ok(())
    }

    fn wake(&self, _: &M, _: usize) {}

    fn peer_may_sleep(&self) -> bool {
        false
    }

    // It took a call it has not answered: the client is blocked in it.
    fn answers_peer(&self) -> bool {
        self.owes.get().is_some()
    }
}

/// The client's side of a [`Doorbell`]: `wait` is a call, `wake` a
/// signal (`CallWaker`).
#[derive(Debug)]
pub struct ClientBell(pub std::sync::Arc<Doorbell>);

impl<M: Memory + ?Sized> Waker<M> for ClientBell {
    fn wait(&self, _: &M, _: usize, _: u32, _: Option<u64>) -> Result<(), TimedOut> {
        let mut state = self.0.state.lock().unwrap();
        state.calls += 1;
        let me = state.calls;
        self.0.changed.notify_all();
        while state.answered < me {
            state = self.0.changed.wait(state).unwrap();
        }
        Ok(())
    }

    fn wake(&self, _: &M, _: usize) {
        self.0.state.lock().unwrap().signalled = true;
        self.0.changed.notify_all();
    }

    fn wait_wakes_peer(&self) -> bool {
        true
    }
}
