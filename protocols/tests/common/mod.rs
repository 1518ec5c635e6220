//! Helpers shared by the host tests: a loopback client of the reference
//! server, a transport that answers with a given reply, and message
//! builders.
#![allow(dead_code)] // each test file uses its own part

use abi::{CapSlot, SysError};
use protocols::Transport;
use protocols::echo::{self, EchoClient, EchoService};
use protocols::loopback::Loopback;
use protocols::rt::ipc::Message;
use protocols::status;

/// A client of a fresh reference server, through a loopback.
pub fn echo_client() -> EchoClient<Loopback<EchoService>> {
    EchoClient::new(Loopback::new(
        EchoService::new(),
        echo::dispatch::<EchoService>,
    ))
}

/// A message with `label`, `words` and capabilities in `caps`.
pub fn message(label: u64, words: &[u64], caps: &[u32]) -> Message {
    let mut message = Message::new(label);
    for &word in words {
        message.push(word).expect("at most 64 words");
    }
    for &slot in caps {
        message.push_cap(CapSlot(slot)).expect("at most 3 caps");
    }
    message
}

/// Runs `request` through the reference server's dispatch; returns the
/// reply's status, request id and words.
pub fn serve(server: &mut EchoService, request: &Message) -> (u16, u32, Vec<u64>, Vec<CapSlot>) {
    let mut reply = Message::new(0);
    echo::dispatch(server, request, &mut reply);
    let (status, id) = status::split_label(reply.label());
    (status, id, reply.words().to_vec(), reply.caps().to_vec())
}

/// A transport that records the request and answers with a fixed reply
/// (a hostile or buggy server).
pub struct Canned {
    /// The reply every call gets; its label's id is replaced by the
    /// request's when `same_id` is set.
    pub reply: Message,
    /// Whether to copy the request id into the reply.
    pub same_id: bool,
    /// The last request's words.
    pub request: Vec<u64>,
}

impl Canned {
    /// A transport answering `reply`, with the request's id.
    pub fn new(reply: Message) -> Canned {
        Canned {
            reply,
            same_id: true,
            request: Vec::new(),
        }
    }
}

impl Transport for Canned {
    fn call(&mut self, request: &mut Message, _deadline: u64) -> Result<(), SysError> {
        self.request = request.words().to_vec();
        let (_, id) = status::split_label(request.label());
        let (status, reply_id) = status::split_label(self.reply.label());
        let id = if self.same_id { id } else { reply_id };
        let mut reply = Message::new(status::reply_label(status, id));
        for &word in self.reply.words() {
            reply.push(word).expect("same capacity");
        }
        for &slot in self.reply.caps() {
            reply.push_cap(slot).expect("same capacity");
        }
        *request = reply;
        Ok(())
    }
}
