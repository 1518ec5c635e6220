//! The kernel state: every object and queue, behind one lock, and the
//! life cycle of objects.
//!
//! Each entry from user mode takes the lock, does its work, destroys the
//! objects that lost their last reference, picks the thread to run and
//! drops the lock before returning to user mode. The kernel never runs
//! with interrupts on (except in the idle halt and at preemption points),
//! so on one CPU the lock is never contended; it is there for the second.
//!
//! Destruction is deferred: dropping an object's last reference puts it
//! on a destroy list (linked through the objects' `reap_next`), and
//! [`Kernel::reap`] empties the list after the operation. Destroying one
//! object may release others (a capability space holds capabilities),
//! which join the list; nothing recurses.

use abi::syscall::{RecvResult, ThreadStatus, exit_kind};
use abi::{SysError, ipc::MessageInfo};
use kcore::queue::{LinkStore, Links, List};

use crate::arch::{self, Fault, ResumeTarget, UserContext, UserTrap};
use crate::cap::ObjectRef;
use crate::fastpath::FastIpc;
use crate::klog;
use crate::mem::kobj::{ObjId, Objects};
use crate::object::cspace;
use crate::object::endpoint::Endpoint;
use crate::object::endpoint::QueueKind;
use crate::object::notification::Notification;
use crate::object::thread::{ReplyRight, Thread, ThreadState};
use crate::sched::Scheduler;
use crate::vm::Access;

/// Everything the kernel knows.
pub struct Kernel {
    /// Access to kernel objects.
    pub objects: Objects,
    /// Run queues and running thread.
    pub sched: Scheduler,
    /// The thread whose FPU registers are live in the CPU.
    fpu_owner: Option<ObjId<Thread>>,
    /// Whether CR0.TS is set (the running thread's next FPU use traps).
    fpu_trapping: bool,
    /// The thread whose FS/GS bases are live in the CPU.
    tls_owner: Option<ObjId<Thread>>,
    /// Threads started and not yet ended.
    pub live_threads: u64,
    /// Next thread number (for logs).
    pub next_thread_id: u64,
    /// Whether the "no threads left" line has been logged.
    announced_idle: bool,
    /// Objects whose last reference is gone, to destroy.
    reap_head: Option<ObjectRef>,
    /// Notifications with an armed timer.
    pub timers: List<ObjId<Notification>>,
    /// The tick count when timers were last checked.
    timers_checked_at: u64,
    /// Whether `Call` and `ReplyRecv` try the fast path.
    pub fastpath: bool,
    /// Syscalls the fast path has handled.
    pub fastpath_hits: u64,
}

/// The kernel state; `None` until boot has built it.
pub static KERNEL: spin::Mutex<Option<Kernel>> = spin::Mutex::new(None);

/// How the kernel leaves for user mode.
pub enum Exit {
    /// Back to the thread that entered the kernel, which is still the
    /// current one: its context top, address space, TLS bases and FPU
    /// state are the live ones (the kernel loads another thread's only
    /// when it switches to it, and a thread's address space lives as long
    /// as the thread).
    Same(*const UserContext),
    /// To another thread, whose TLS and FPU state are made live here;
    /// `arch::resume` does the rest.
    Switch(ResumeTarget),
}

/// What a syscall handler decided about the calling thread.
pub enum Next {
    /// Return to it with status 0 and no results (the result registers
    /// zeroed).
    Success,
    /// Return to it with these results (status 0).
    Reply([u64; 6]),
    /// It has blocked; whoever wakes it sets its results.
    Blocked,
    /// It has ended, or its results are already set.
    Done,
    /// Run the syscall again from the start (a preempted long operation).
    Restart,
}

/// The #NM exception: an FPU instruction while CR0.TS is set.
const DEVICE_NOT_AVAILABLE: u64 = 7;
/// The page-fault exception.
const PAGE_FAULT: u64 = 14;
/// Page-fault error code: the access was a write.
const PF_WRITE: u64 = 1 << 1;
/// Page-fault error code: the access was an instruction fetch.
const PF_INSTRUCTION: u64 = 1 << 4;

/// Length of the `syscall` instruction, to run it again.
const SYSCALL_INSTRUCTION_BYTES: u64 = 2;

impl LinkStore<ObjId<Notification>> for Objects {
    fn links(&self, id: ObjId<Notification>) -> Links<ObjId<Notification>> {
        self.get(id).timer_links
    }

    fn set_links(&mut self, id: ObjId<Notification>, links: Links<ObjId<Notification>>) {
        self.get_mut(id).timer_links = links;
    }
}

impl Kernel {
    /// An empty kernel.
    pub const fn new() -> Kernel {
        Kernel {
            objects: Objects::new(),
            sched: Scheduler::new(),
            fpu_owner: None,
            fpu_trapping: false,
            tls_owner: None,
            live_threads: 0,
            next_thread_id: 1,
            announced_idle: false,
            reap_head: None,
            timers: List::new(),
            timers_checked_at: 0,
            fastpath: true,
            fastpath_hits: 0,
        }
    }

    /// `Null` for the current thread: its results are set, and it goes on
    /// with everything still live (context top, address space, TLS, FPU).
    #[inline(always)]
    pub fn null_syscall(&mut self) -> Option<*const UserContext> {
        let context = &mut self.objects.get_mut(self.sched.current?).context;
        context.set_syscall_result(0, [0; 6]);
        Some(context)
    }

    /// The IPC fast path for the current thread's `Call` or `ReplyRecv`:
    /// the thread to resume, or `None` to take the general path
    /// ([`Kernel::syscall`], then [`Kernel::choose_next`]).
    #[inline(always)]
    pub fn fast_ipc(&mut self, kind: FastIpc) -> Option<ResumeTarget> {
        let current = self.sched.current?;
        if !self.fastpath {
            return None;
        }
        let next = crate::fastpath::try_ipc(self, current, kind)?;
        Some(self.resume_target(next))
    }

    /// Handles the syscall the current thread just made.
    pub fn syscall(&mut self) {
        let Some(current) = self.sched.current else {
            return;
        };
        let (number, args) = self.objects.get(current).context.syscall_args();
        let result = match crate::syscall::dispatch(self, current, number, args) {
            Ok(Next::Success) => Some((0, [0; 6])),
            Ok(Next::Reply(values)) => Some((0, values)),
            Err(error) => Some((error.code(), [0; 6])),
            Ok(Next::Restart) => {
                self.objects.get_mut(current).context.rip -= SYSCALL_INSTRUCTION_BYTES;
                self.on_tick();
                None
            }
            // The thread is blocked (its waker sets the results) or done.
            Ok(Next::Blocked | Next::Done) => None,
        };
        if let Some((status, values)) = result {
            let context = &mut self.objects.get_mut(current).context;
            context.set_syscall_result(status, values);
        }
        self.reap();
    }

    /// Handles an interrupt or exception from the current thread.
    pub fn user_trap(&mut self, trap: UserTrap) {
        match trap {
            UserTrap::Timer => {
                crate::time::tick();
                self.on_tick();
            }
            UserTrap::Irq(irq) => arch::irq::acknowledge(irq),
            UserTrap::Spurious => {}
            UserTrap::Fault(fault) => {
                if let Some(current) = self.sched.current {
                    if fault.vector == DEVICE_NOT_AVAILABLE && self.fpu_trapping {
                        self.take_fpu(current);
                    } else {
                        self.user_fault(current, fault);
                    }
                }
            }
        }
        self.reap();
    }

    /// Called by the idle loop after each wake-up: ticks taken while the
    /// CPU idled still fire timers.
    pub fn idle_tick(&mut self) {
        if crate::time::ticks() != self.timers_checked_at {
            self.on_tick();
        }
    }

    /// A timer tick: fire due timers, then rotate equal priorities.
    fn on_tick(&mut self) {
        self.timers_checked_at = crate::time::ticks();
        let now = crate::time::now_ns();
        let mut next = self.timers.front();
        while let Some(id) = next {
            next = self.objects.get(id).timer_links.next;
            let notification = self.objects.get(id);
            if notification.deadline <= now {
                let bits = notification.timer_bits;
                self.disarm_timer(id);
                self.signal(id, bits);
            }
        }
        self.sched.rotate(&mut self.objects);
    }

    /// Takes a notification's timer off the armed list.
    pub fn disarm_timer(&mut self, id: ObjId<Notification>) {
        if self.objects.get(id).deadline != 0 {
            self.timers.remove(&mut self.objects, id);
            self.objects.get_mut(id).deadline = 0;
        }
    }

    /// An exception in user mode: a page fault the regions resolve goes
    /// on at once; anything else becomes a message on the thread's fault
    /// endpoint, or ends the thread if it has none.
    fn user_fault(&mut self, id: ObjId<Thread>, fault: Fault) {
        let mut kind = 0;
        if fault.vector == PAGE_FAULT {
            let access = if fault.error_code & PF_INSTRUCTION != 0 {
                kind |= abi::ipc::fault::kind::EXEC;
                Access::Exec
            } else if fault.error_code & PF_WRITE != 0 {
                kind |= abi::ipc::fault::kind::WRITE;
                Access::Write
            } else {
                Access::Read
            };
            let aspace = self.objects.get(id).aspace;
            match self.resolve_fault(aspace, fault.addr, access) {
                Ok(()) => return,
                Err(error) => kind |= error.kind(),
            }
        }
        kind |= fault.error_code << abi::ipc::fault::kind::ERROR_CODE_SHIFT;
        let thread = self.objects.get_mut(id);
        thread.fault = [fault.vector, kind, fault.rip, fault.addr];
        let (cspace, slot) = (thread.cspace, thread.fault_endpoint);
        let handler = (slot != abi::CapSlot::NULL)
            .then(|| {
                crate::object::cspace::lookup::<ObjId<Endpoint>>(
                    &self.objects,
                    cspace,
                    slot,
                    abi::Rights::WRITE,
                )
                .ok()
            })
            .flatten();
        match handler {
            Some((endpoint, cap)) => crate::ipc::send_fault(self, id, endpoint, cap.badge),
            None => self.kill_faulted(id),
        }
    }

    /// Ends a thread for the fault in its `fault` words, and logs it.
    pub fn kill_faulted(&mut self, id: ObjId<Thread>) {
        let thread = self.objects.get(id);
        let [vector, kind, rip, addr] = thread.fault;
        let error_code = kind >> abi::ipc::fault::kind::ERROR_CODE_SHIFT;
        klog!(
            Warn,
            "killed thread {}: {} at rip {:#x} (error {:#x}, address {:#x})",
            thread.id,
            arch::exception_name(vector),
            rip,
            error_code,
            addr
        );
        let status = ThreadStatus {
            kind: exit_kind::FAULTED,
            code: vector,
            error_code,
            rip,
            addr,
        };
        self.end_thread(id, status);
    }

    /// Gives up `id`'s reply right, if it holds one: the caller it owed a
    /// reply gets `PeerClosed`; a thread whose fault it owed an answer
    /// ends with that fault.
    pub fn drop_reply_right(&mut self, id: ObjId<Thread>) {
        match core::mem::replace(&mut self.objects.get_mut(id).reply, ReplyRight::None) {
            ReplyRight::To(caller) => {
                self.objects.get_mut(caller).replier = None;
                self.wake(caller, Err(SysError::PeerClosed));
            }
            ReplyRight::Fault(thread) => {
                self.objects.get_mut(thread).replier = None;
                self.kill_faulted(thread);
            }
            ReplyRight::None | ReplyRight::CallerGone => {}
        }
    }

    /// Sets a blocked thread's syscall results and makes it ready.
    pub fn wake(&mut self, id: ObjId<Thread>, result: Result<[u64; 6], SysError>) {
        let (status, values) = match result {
            Ok(values) => (0, values),
            Err(error) => (error.code(), [0; 6]),
        };
        self.objects
            .get_mut(id)
            .context
            .set_syscall_result(status, values);
        self.sched.make_ready(&mut self.objects, id);
    }

    /// Signals a notification with `bits`: the first waiter takes the
    /// word, else a bound thread receiving on an endpoint, else the bits
    /// stay in the word.
    pub fn signal(&mut self, id: ObjId<Notification>, bits: u64) {
        let notification = self.objects.get_mut(id);
        notification.word |= bits;
        let word = notification.word;
        let mut waiters = notification.waiters;
        if let Some(waiter) = waiters.pop_front(&mut self.objects) {
            let notification = self.objects.get_mut(id);
            notification.waiters = waiters;
            notification.word = 0;
            self.wake(waiter, Ok([word, 0, 0, 0, 0, 0]));
            return;
        }
        let Some(bound) = self.objects.get(id).bound else {
            return;
        };
        if let ThreadState::Receiving { endpoint } = self.objects.get(bound).state {
            self.objects.get_mut(id).word = 0;
            self.endpoint_remove(endpoint, bound);
            let result = RecvResult {
                badge: word,
                info: MessageInfo::NOTIFICATION.to_reg(),
                ..RecvResult::default()
            };
            self.wake(bound, Ok(abi::syscall::SyscallResult::encode(&result)));
        }
    }

    /// Takes a thread off an endpoint's queue.
    pub fn endpoint_remove(&mut self, endpoint: ObjId<Endpoint>, id: ObjId<Thread>) {
        let mut queue = self.objects.get(endpoint).queue;
        queue.remove(&mut self.objects, id);
        let endpoint = self.objects.get_mut(endpoint);
        endpoint.queue = queue;
        endpoint.settle();
    }

    /// Takes the first waiter off an endpoint's queue (the one
    /// `Endpoint::first` names).
    #[inline(always)]
    pub fn endpoint_pop(&mut self, endpoint: ObjId<Endpoint>) -> Option<ObjId<Thread>> {
        let mut queue = self.objects.get(endpoint).queue;
        let first = queue.pop_front(&mut self.objects);
        let endpoint = self.objects.get_mut(endpoint);
        endpoint.queue = queue;
        endpoint.settle();
        first
    }

    /// Queues a thread on an endpoint (priority order) as `kind`.
    #[inline(always)]
    pub fn endpoint_enqueue(
        &mut self,
        endpoint: ObjId<Endpoint>,
        id: ObjId<Thread>,
        kind: QueueKind,
    ) {
        let mut queue = self.objects.get(endpoint).queue;
        let priority = self.objects.get(id).priority;
        queue.insert_by_priority(&mut self.objects, id, priority, |objects, t| {
            objects.get(t).priority
        });
        let endpoint = self.objects.get_mut(endpoint);
        endpoint.queue = queue;
        endpoint.kind = kind;
    }

    /// Takes a thread out of whatever it waits in, and cuts its reply
    /// relations: a caller it owes a reply gets `PeerClosed`; a server
    /// that owes it one finds the right gone.
    fn detach(&mut self, id: ObjId<Thread>) {
        self.sched.forget_current(id);
        self.sched.unqueue(&mut self.objects, id);
        match self.objects.get(id).state {
            ThreadState::Sending { endpoint, .. } | ThreadState::Receiving { endpoint } => {
                self.endpoint_remove(endpoint, id);
            }
            ThreadState::Waiting { notification } => {
                let mut waiters = self.objects.get(notification).waiters;
                waiters.remove(&mut self.objects, id);
                self.objects.get_mut(notification).waiters = waiters;
            }
            ThreadState::Joining { target } => self.objects.get_mut(target).joiner = None,
            ThreadState::AwaitingReply { .. } => {
                if let Some(server) = self.objects.get_mut(id).replier.take() {
                    self.objects.get_mut(server).reply = ReplyRight::CallerGone;
                }
            }
            ThreadState::Inactive
            | ThreadState::Ready
            | ThreadState::Running
            | ThreadState::Exited => {}
        }
        self.drop_reply_right(id);
        let thread = self.objects.get_mut(id);
        thread.state = ThreadState::Inactive;
        if let Some(notification) = thread.bound.take() {
            self.objects.get_mut(notification).bound = None;
        }
    }

    /// Ends a thread: records how, wakes its joiner, and leaves the object
    /// for its capabilities to release.
    pub fn end_thread(&mut self, id: ObjId<Thread>, status: ThreadStatus) {
        let started = !matches!(
            self.objects.get(id).state,
            ThreadState::Inactive | ThreadState::Exited
        );
        self.detach(id);
        if started {
            self.live_threads = self.live_threads.saturating_sub(1);
        }
        let thread = self.objects.get_mut(id);
        thread.state = ThreadState::Exited;
        thread.status = status;
        if let Some(joiner) = thread.joiner.take() {
            self.wake(joiner, Ok(abi::syscall::SyscallResult::encode(&status)));
        }
    }

    fn destroy_thread(&mut self, id: ObjId<Thread>) {
        if self.objects.get(id).state != ThreadState::Exited {
            let status = ThreadStatus {
                kind: exit_kind::EXITED,
                ..ThreadStatus::default()
            };
            self.end_thread(id, status);
        }
        if let Some(joiner) = self.objects.get_mut(id).joiner.take() {
            self.wake(joiner, Err(SysError::PeerClosed));
        }
        if self.fpu_owner == Some(id) {
            self.fpu_owner = None;
        }
        if self.tls_owner == Some(id) {
            self.tls_owner = None;
        }
        // An exited thread can still have been bound since it ended.
        if let Some(notification) = self.objects.get_mut(id).bound.take() {
            self.objects.get_mut(notification).bound = None;
        }
        let thread = self.objects.get(id);
        let (aspace, cspace, budget) = (thread.aspace, thread.cspace, thread.budget);
        self.free_object(budget, id);
        self.release(ObjectRef::AddressSpace(aspace));
        self.release(ObjectRef::CSpace(cspace));
    }

    /// Counts a new reference (a capability, a thread, a mapping) to `object`.
    pub fn add_ref(&mut self, object: ObjectRef) {
        if let Some(refs) = self.refs_mut(object) {
            *refs += 1;
        }
    }

    fn refs_mut(&mut self, object: ObjectRef) -> Option<&mut u32> {
        let objects = &mut self.objects;
        Some(match object {
            ObjectRef::Debug | ObjectRef::DeviceMemory => return None,
            ObjectRef::Budget(id) => &mut objects.get_mut(id).refs,
            ObjectRef::AddressSpace(id) => &mut objects.get_mut(id).refs,
            ObjectRef::Thread(id) => &mut objects.get_mut(id).refs,
            ObjectRef::CSpace(id) => &mut objects.get_mut(id).refs,
            ObjectRef::Endpoint(id) => &mut objects.get_mut(id).refs,
            ObjectRef::Notification(id) => &mut objects.get_mut(id).refs,
            ObjectRef::Memory(id) => &mut objects.get_mut(id).refs,
        })
    }

    fn reap_next_mut(&mut self, object: ObjectRef) -> Option<&mut Option<ObjectRef>> {
        let objects = &mut self.objects;
        Some(match object {
            ObjectRef::Debug | ObjectRef::DeviceMemory => return None,
            ObjectRef::Budget(id) => &mut objects.get_mut(id).reap_next,
            ObjectRef::AddressSpace(id) => &mut objects.get_mut(id).reap_next,
            ObjectRef::Thread(id) => &mut objects.get_mut(id).reap_next,
            ObjectRef::CSpace(id) => &mut objects.get_mut(id).reap_next,
            ObjectRef::Endpoint(id) => &mut objects.get_mut(id).reap_next,
            ObjectRef::Notification(id) => &mut objects.get_mut(id).reap_next,
            ObjectRef::Memory(id) => &mut objects.get_mut(id).reap_next,
        })
    }

    /// Drops a reference to `object`; at the last it joins the destroy list.
    pub fn release(&mut self, object: ObjectRef) {
        let Some(refs) = self.refs_mut(object) else {
            return;
        };
        *refs = refs.saturating_sub(1);
        if *refs != 0 {
            return;
        }
        // A budget still paying for something stays until it is refunded.
        if let ObjectRef::Budget(id) = object
            && !self.objects.get(id).is_unused()
        {
            return;
        }
        self.schedule_destroy(object);
    }

    /// Puts an object whose last reference is gone on the destroy list.
    pub fn schedule_destroy(&mut self, object: ObjectRef) {
        let head = self.reap_head.take();
        if let Some(link) = self.reap_next_mut(object) {
            *link = head;
        }
        self.reap_head = Some(object);
    }

    /// Destroys every object on the destroy list (and those they release).
    #[inline(always)]
    pub fn reap(&mut self) {
        if self.reap_head.is_some() {
            self.reap_all();
        }
    }

    #[inline(never)]
    fn reap_all(&mut self) {
        while let Some(object) = self.reap_head {
            self.reap_head = self.reap_next_mut(object).and_then(Option::take);
            self.destroy(object);
        }
    }

    fn destroy(&mut self, object: ObjectRef) {
        match object {
            ObjectRef::Debug | ObjectRef::DeviceMemory => {}
            ObjectRef::Budget(id) => {
                let budget = self.objects.get(id);
                let (parent, limit) = (budget.parent, budget.account.limit());
                self.objects.free(id);
                if let Some(parent) = parent {
                    self.refund(parent, limit + 1);
                }
            }
            ObjectRef::Thread(id) => self.destroy_thread(id),
            ObjectRef::Endpoint(id) => {
                while let Some(waiter) = self.endpoint_pop(id) {
                    // A thread queued with a fault message is not in a
                    // syscall: nobody can answer its fault now. (It is off
                    // the queue already, so it ends as if it were running.)
                    match self.objects.get(waiter).state {
                        ThreadState::Sending { fault: true, .. } => {
                            self.objects.get_mut(waiter).state = ThreadState::Running;
                            self.kill_faulted(waiter);
                        }
                        _ => self.wake(waiter, Err(SysError::PeerClosed)),
                    }
                }
                let budget = self.objects.get(id).budget;
                self.free_object(budget, id);
            }
            ObjectRef::Notification(id) => {
                self.disarm_timer(id);
                let mut waiters = self.objects.get(id).waiters;
                while let Some(waiter) = waiters.pop_front(&mut self.objects) {
                    self.wake(waiter, Err(SysError::PeerClosed));
                }
                if let Some(bound) = self.objects.get(id).bound {
                    self.objects.get_mut(bound).bound = None;
                }
                let budget = self.objects.get(id).budget;
                self.free_object(budget, id);
            }
            ObjectRef::CSpace(id) => {
                let limit = self.objects.get(id).limit();
                for index in 1..limit {
                    if let Some(slot) = self.objects.get(id).slot_id(index) {
                        crate::cap::tree::delete(self, slot);
                    }
                }
                let (budget, frames) = (self.objects.get(id).budget, self.objects.get(id).frames());
                cspace::free_pages(&mut self.objects, id);
                self.objects.free(id);
                self.refund(budget, frames);
            }
            ObjectRef::AddressSpace(id) => self.destroy_aspace(id),
            ObjectRef::Memory(id) => self.destroy_memory(id),
        }
    }

    /// Picks the thread to run next and prepares the CPU for it (FPU and
    /// TLS registers); `None` when nothing is runnable.
    pub fn choose_next(&mut self) -> Option<Exit> {
        let entered = self.sched.current;
        let Some(next) = self.sched.pick(&mut self.objects) else {
            if self.live_threads == 0 && !self.announced_idle {
                self.announced_idle = true;
                klog!(Info, "no user threads left; idle");
            }
            return None;
        };
        if entered == Some(next) {
            // The thread that entered goes on: nothing to switch.
            return Some(Exit::Same(&self.objects.get(next).context));
        }
        self.objects.get_mut(next).state = ThreadState::Running;
        Some(Exit::Switch(self.resume_target(next)))
    }

    /// Makes `next`'s registers live and says where to resume it.
    #[inline(always)]
    fn resume_target(&mut self, next: ObjId<Thread>) -> ResumeTarget {
        self.switch_registers(next);
        let thread = self.objects.get(next);
        ResumeTarget {
            context: &thread.context,
            root: self.objects.get(thread.aspace).root,
        }
    }

    /// Makes `next`'s FS/GS bases live, and arms the lazy FPU switch.
    #[inline(always)]
    fn switch_registers(&mut self, next: ObjId<Thread>) {
        if self.tls_owner != Some(next) {
            let (fs, gs) = arch::read_tls_bases();
            if let Some(previous) = self.tls_owner {
                let thread = self.objects.get_mut(previous);
                thread.fs_base = fs;
                thread.gs_base = gs;
            }
            let thread = self.objects.get(next);
            // Most threads share the same (zero) bases: skip the writes.
            if (thread.fs_base, thread.gs_base) != (fs, gs) {
                arch::write_tls_bases(thread.fs_base, thread.gs_base);
            }
            self.tls_owner = Some(next);
        }
        let trap = self.fpu_owner != Some(next);
        if trap != self.fpu_trapping {
            if trap {
                arch::fpu::trap_next_use();
            } else {
                arch::fpu::allow_use();
            }
            self.fpu_trapping = trap;
        }
    }

    /// The running thread used the FPU (#NM): move the FPU registers from
    /// their owner to it.
    #[inline(never)]
    fn take_fpu(&mut self, current: ObjId<Thread>) {
        arch::fpu::allow_use();
        self.fpu_trapping = false;
        if let Some(previous) = self.fpu_owner {
            arch::fpu::save(&mut self.objects.get_mut(previous).fpu);
        }
        arch::fpu::restore(&self.objects.get(current).fpu);
        self.fpu_owner = Some(current);
    }

    /// Gives a thread number.
    pub fn new_thread_id(&mut self) -> u64 {
        let id = self.next_thread_id;
        self.next_thread_id += 1;
        id
    }

    /// The current FS/GS bases of a thread (live in the CPU if it owns it).
    pub fn tls_bases(&self, id: ObjId<Thread>) -> (u64, u64) {
        if self.tls_owner == Some(id) {
            arch::read_tls_bases()
        } else {
            let thread = self.objects.get(id);
            (thread.fs_base, thread.gs_base)
        }
    }

    /// Sets a thread's FS/GS bases (in the CPU too if it owns it).
    pub fn set_tls_bases(&mut self, id: ObjId<Thread>, fs: u64, gs: u64) {
        let thread = self.objects.get_mut(id);
        thread.fs_base = fs;
        thread.gs_base = gs;
        if self.tls_owner == Some(id) {
            arch::write_tls_bases(fs, gs);
        }
    }
}
