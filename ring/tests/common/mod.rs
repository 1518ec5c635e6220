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
