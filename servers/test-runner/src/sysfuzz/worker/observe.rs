//! What a worker learns from a call's result: the capabilities it made,
//! copied, moved, deleted or revoked (kept in its pool), a reply right it
//! now holds or saved, capabilities it received, the clock; and what a
//! slot holds, asked of the kernel.

use abi::ipc::{IPC_BUFFER_CAPS_OFFSET, MessageInfo};
use abi::syscall::{CapDeleteArgs, CapInfoArgs, Syscall};
use abi::{CapSlot, ObjectType, Rights, SysError};

use crate::sysfuzz::copy_many;
use crate::sysfuzz::pool::State;
use crate::sysfuzz::report::{self, stat};

use super::{INFO_INDEX, IPC_PAGES, Tag, Worker};

impl Worker {
    /// Learns from a call's result.
    pub(super) fn observe(
        &mut self,
        call: Syscall,
        args: &[u64; 6],
        status: u64,
        results: &[u64; 6],
    ) {
        use Syscall as S;
        if status != 0 {
            // A saved reply whose caller has gone is used up all the same.
            if call == S::ReplyWith && status == SysError::PeerClosed.code() {
                self.pool.deleted(args[0]);
            }
            if call == S::ReplySave && status == SysError::PeerClosed.code() {
                self.holding_reply = false;
            }
            // The receive's errors come after the save: the reply is in
            // the named slot.
            if call == S::ReplySaveRecv
                && [
                    SysError::TimedOut,
                    SysError::PeerClosed,
                    SysError::BadAddress,
                ]
                .iter()
                .any(|error| error.code() == status)
            {
                self.holding_reply = false;
                self.learn(args[1], Some(ObjectType::Reply), Some(Rights::WRITE), 0);
            }
            if status == SysError::InvalidCap.code()
                && matches!(call, S::CapDelete | S::CapRevoke | S::CapInfo)
                && self
                    .pool
                    .find(args[0])
                    .is_some_and(|e| e.state == State::Live)
            {
                self.pool.deleted(args[0]);
            }
            return;
        }
        let created = match call {
            S::ThreadCreate => Some(ObjectType::Thread),
            S::CSpaceCreate => Some(ObjectType::CSpace),
            S::EndpointCreate => Some(ObjectType::Endpoint),
            S::NotificationCreate => Some(ObjectType::Notification),
            S::AspaceCreate | S::AspaceClone => Some(ObjectType::AddressSpace),
            S::MemoryCreate | S::MemoryCreateDevice => Some(ObjectType::MemoryObject),
            S::BudgetSplit => Some(ObjectType::Budget),
            S::IoPortsCreate => Some(ObjectType::IoPorts),
            S::IrqCreate => Some(ObjectType::Irq),
            _ => None,
        };
        if call == S::MemoryCreateDevice {
            self.forget_device(results[0]);
            return;
        }
        if let Some(kind) = created {
            self.learn(results[0], Some(kind), Some(Rights::all()), args[0]);
            return;
        }
        match call {
            S::MemoryLend => self.learn(
                results[0],
                Some(ObjectType::MemoryObject),
                Some(Rights::READ | Rights::GRANT),
                args[0],
            ),
            S::CapCopy | S::CapMint => {
                let space = if call == S::CapCopy { args[2] } else { args[3] };
                if space == 0 {
                    let source = self.pool.find(args[0]);
                    let rights = Rights::from_bits(args[1] as u32)
                        .map(|r| source.and_then(|s| s.rights).map_or(r, |s| s & r));
                    self.learn(results[0], source.and_then(|s| s.kind), rights, args[0]);
                }
            }
            S::CapMove => {
                let to = if args[1] == 0 { results[0] } else { 0 };
                self.pool.moved(args[0], to);
            }
            S::CapDelete => self.pool.deleted(args[0]),
            S::CapRevoke => self.pool.revoked(args[0]),
            S::CapDetach => self.pool.detached(args[0], args[1]),
            S::CapDeleteRange => self.pool.deleted_range(args[0], args[1]),
            S::CapCopyMany => self.copied_many(args, results[0]),
            S::ClockRead => self.cx.now = results[0],
            S::Reply => self.holding_reply = false,
            S::ReplySave => {
                self.holding_reply = false;
                self.learn(results[0], Some(ObjectType::Reply), Some(Rights::WRITE), 0);
            }
            S::ReplyWith => self.pool.deleted(args[0]),
            S::ReplySaveRecv => {
                self.holding_reply = false;
                self.learn(args[1], Some(ObjectType::Reply), Some(Rights::WRITE), 0);
                self.received(call, args[0], results);
            }
            S::Recv | S::NbRecv | S::ReplyRecv | S::Call => {
                if call == S::ReplyRecv {
                    self.holding_reply = false;
                }
                self.received(call, args[0], results);
            }
            _ => {}
        }
    }

    /// Learns the copies a `CapCopyMany` made in the worker's own space.
    fn copied_many(&mut self, args: &[u64; 6], copied: u64) {
        let page = &IPC_PAGES[self.index];
        for (dst, src, wanted) in copy_many::copies(page, args, copied) {
            let source = self.pool.find(src);
            let rights = Some(source.and_then(|s| s.rights).map_or(wanted, |s| s & wanted));
            self.learn(dst, source.and_then(|s| s.kind), rights, src);
        }
    }

    /// Deletes a device-memory object just made, so that it never joins
    /// the pool. The kernel copies IPC messages through its direct map of
    /// RAM, which has no device pages: a device page mapped where a thread
    /// has its IPC buffer (a random `AspaceMap` of a pool object at a
    /// partner's IPC address, say) panics it on the next message (a kernel
    /// bug, reported; `ipc::transfer`). Until it is fixed, device memory
    /// is mapped only by the `window` script, in the worker's own window,
    /// and unmapped and deleted there.
    pub fn forget_device(&mut self, slot: u64) {
        let tag = core::mem::replace(&mut self.tag, Tag::Upkeep);
        let _ = self.call(&CapDeleteArgs {
            slot: CapSlot(slot as u32),
        });
        self.pool.deleted(slot);
        self.tag = tag;
    }

    /// Learns from a received message: a reply right, capabilities.
    fn received(&mut self, call: Syscall, endpoint: u64, results: &[u64; 6]) {
        let info = MessageInfo::from_received(results[1]);
        if info.is_notification() {
            return;
        }
        if info.is_fault() {
            report::bump(stat::FAULT_MESSAGES, 1);
        }
        if call != Syscall::Call && info.is_call() {
            self.holding_reply = true;
            self.call_endpoint = endpoint;
        }
        let caps = info.caps().min(3);
        report::bump(stat::CAPS_RECEIVED, caps as u64);
        for index in 0..caps {
            let slot = IPC_PAGES[self.index].word(IPC_BUFFER_CAPS_OFFSET / 8 + index);
            let (kind, rights) = self.describe(slot);
            self.learn(slot, kind, rights, 0);
        }
    }

    /// What `slot` holds, asked of the kernel (`CapInfo` into the IPC page).
    pub fn describe(&mut self, slot: u64) -> (Option<ObjectType>, Option<Rights>) {
        let tag = core::mem::replace(&mut self.tag, Tag::Upkeep);
        let page = &IPC_PAGES[self.index];
        let out = page.addr() + (INFO_INDEX * 8) as u64;
        let result = self.call(&CapInfoArgs {
            slot: CapSlot(slot as u32),
            out,
        });
        self.tag = tag;
        if slot > u64::from(u32::MAX) || result.is_err() {
            return (None, None);
        }
        let word = page.word(INFO_INDEX);
        let kind = ObjectType::from_reg(word & 0xffff_ffff).ok();
        let rights = Rights::from_bits((word >> 32) as u32);
        (kind, rights)
    }
}
