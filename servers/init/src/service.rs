//! init's side of the `Supervisor` protocol (`protocols::supervisor`).

use protocols::ErrorCode;
use protocols::supervisor::{
    self, EVENT_BYTES, HISTORY_EVENTS, NO_FRAME_COUNT, NOT_RUNNING, State, SupervisorServer,
    UNKNOWN_PROGRAM,
};
use rt::ipc::Message;

use crate::supervise::Init;

struct Service<'i, 'a> {
    init: &'i mut Init<'a>,
    history: [u8; HISTORY_EVENTS * EVENT_BYTES],
}

impl Service<'_, '_> {
    fn index(&self, name: &str) -> Result<usize, ErrorCode> {
        self.init.find(name).ok_or(UNKNOWN_PROGRAM)
    }
}

impl SupervisorServer for Service<'_, '_> {
    fn status(&mut self, name: &str) -> Result<(State, u64, u64), ErrorCode> {
        let program = &self.init.programs[self.index(name)?];
        Ok((program.state, program.instance, program.failures))
    }

    fn note<'m>(&'m mut self, name: &'m str) -> Result<&'m str, ErrorCode> {
        let index = self.index(name)?;
        Ok(&self.init.programs[index].note)
    }

    fn kill(&mut self, name: &str) -> Result<(), ErrorCode> {
        let index = self.index(name)?;
        if self.init.kill(index) {
            Ok(())
        } else {
            Err(NOT_RUNNING)
        }
    }

    fn history<'m>(&'m mut self, name: &'m str) -> Result<&'m [u8], ErrorCode> {
        let index = self.index(name)?;
        Ok(self.init.programs[index].history_into(&mut self.history))
    }

    fn frames(&mut self) -> Result<(u64, u64), ErrorCode> {
        let status =
            rt::sys::budget_info(self.init.authorities.budget).map_err(|_| NO_FRAME_COUNT)?;
        Ok((status.limit, status.used))
    }
}

/// Answers one supervisor call into `reply`.
pub fn dispatch(init: &mut Init<'_>, request: &Message, reply: &mut Message) {
    let mut service = Service {
        init,
        history: [0; HISTORY_EVENTS * EVENT_BYTES],
    };
    supervisor::dispatch(&mut service, request, reply);
}
