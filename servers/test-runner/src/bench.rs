//! In-OS benchmarks: each prints `BENCH <name> <unit> <median> <p10> <p90>
//! <iterations>`, then `BENCH-DONE`, then the run ends. Every sample has
//! the measured overhead of an empty measurement subtracted.

use crate::copy_spawn::spawn_copy;
use crate::raw as sys;
use crate::timing::{summarize, timed_overhead, timed_syscall, tsc_end, tsc_start};
use abi::boot::BootInfo;
use abi::{CapSlot, Rights, SysError};
use rt::println;

use crate::bench_pair::{self, BenchKind, CLIENT_REPORT, GO, PARTNER_REPORT};
use crate::peer::{self, grant};

const ITERATIONS: usize = 10_000;
const WARMUP: usize = 1_000;

pub(crate) fn report(name: &str, unit: &str, samples: &mut [u64]) {
    let (median, p10, p90) = summarize(samples);
    println!("BENCH {name} {unit} {median} {p10} {p90} {}", samples.len());
}

pub(crate) fn measure(samples: &mut [u64], overhead: u64, op: impl FnMut()) {
    measure_after(WARMUP, samples, overhead, op);
}

/// [`measure`] after `warmup` untimed runs.
pub(crate) fn measure_after(
    warmup: usize,
    samples: &mut [u64],
    overhead: u64,
    mut op: impl FnMut(),
) {
    for _ in 0..warmup {
        op();
    }
    for s in samples.iter_mut() {
        let start = tsc_start();
        op();
        let end = tsc_end();
        *s = (end - start).saturating_sub(overhead);
    }
}

/// The value of the kernel command-line word `key=value`.
fn cmdline_word<'a>(boot: &'a BootInfo, key: &str) -> Option<&'a str> {
    core::str::from_utf8(boot.cmdline())
        .ok()?
        .split_whitespace()
        .find_map(|w| w.strip_prefix(key)?.strip_prefix('='))
}

/// Runs every benchmark (or, with `only=TEXT` on the kernel command line,
/// the cross-address-space rows whose names contain TEXT, and the
/// process-level rows whose names TEXT is part of) and ends the run.
pub fn run(boot: &BootInfo) -> u64 {
    let unit = cmdline_word(boot, "unit").unwrap_or("instructions");
    if let Some(only) = cmdline_word(boot, "only") {
        pair_rows(unit, only);
        let mut empty = [0u64; 1000];
        measure(&mut empty, 0, || {});
        let (overhead, _, _) = summarize(&mut empty);
        if "load_exit".contains(only) {
            let mut samples = [0u64; SPAWN_SAMPLES];
            load_exit(unit, &mut samples, overhead);
        }
        if "spawn_exit".contains(only) {
            let mut samples = [0u64; SPAWN_SAMPLES];
            crate::bench_procs::rows(unit, &mut samples, overhead);
        }
        if "protocol_call_roundtrip".contains(only) {
            let mut samples = [0u64; PROTOCOL_SAMPLES];
            protocol_call_roundtrip(unit, &mut samples, overhead);
        }
        if "ring_roundtrip".contains(only) {
            let mut samples = [0u64; RING_SAMPLES];
            ring_roundtrip(unit, &mut samples, overhead);
        }
        if "driver_restart".contains(only) {
            let mut samples = [0u64; RESTART_SAMPLES];
            driver_restart(unit, &mut samples, overhead);
        }
        if "pipe_pingpong pipe_throughput_64k".contains(only) {
            let mut samples = [0u64; 1000];
            crate::bench_pipes::rows(unit, &mut samples, overhead);
        }
        if "file_open_close file_read_4k_msg file_read_4k_ring file_stat file_create_unlink"
            .contains(only)
        {
            let mut samples = [0u64; ITERATIONS];
            crate::bench_files::rows(unit, &mut samples, overhead);
        }
        if "shell_true shell_pipeline".contains(only) {
            let mut samples = [0u64; 16];
            crate::bench_shell::rows(unit, &mut samples, overhead);
        }
        if "futex_pingpong".contains(only) {
            crate::bench_futex::row(unit);
        }
        println!("BENCH-DONE");
        let _ = crate::raw::debug_exit(CapSlot(boot.debug_cap), 0);
        return 0;
    }
    let mut samples = [0u64; ITERATIONS];
    let samples = &mut samples[..];

    // The empty measurement.
    measure(samples, 0, || {});
    let (overhead, _, _) = summarize(samples);

    // `boot_to_user` is init's row when init started the runner.
    if rt::start::startup_info().is_none() {
        let ticks = rt::start::start_tsc().saturating_sub(boot.kernel_entry_tsc);
        println!("BENCH boot_to_user {unit} {ticks} {ticks} {ticks} 1");
    }

    // Kernel path only: minus the same block with a nop for `syscall`.
    let null = abi::syscall::Syscall::Null.number();
    let nop = timed_overhead();
    for _ in 0..WARMUP {
        timed_syscall(null, [0; 6]);
    }
    for s in samples.iter_mut() {
        let t = timed_syscall(null, [0; 6]);
        *s = (t.after - t.before).saturating_sub(nop);
    }
    report("null_syscall", unit, samples);

    let thread_bytes = u64::from(boot.thread_object_bytes);
    println!("BENCH thread_object_bytes bytes {thread_bytes} {thread_bytes} {thread_bytes} 1");

    measure(&mut samples[..1000], overhead, thread_lifecycle);
    report("thread_lifecycle", unit, &mut samples[..1000]);

    load_exit(unit, &mut samples[..SPAWN_SAMPLES], overhead);
    protocol_call_roundtrip(unit, &mut samples[..PROTOCOL_SAMPLES], overhead);
    ring_roundtrip(unit, &mut samples[..RING_SAMPLES], overhead);
    driver_restart(unit, &mut samples[..RESTART_SAMPLES], overhead);
    crate::bench_files::rows(unit, samples, overhead);
    crate::bench_pipes::rows(unit, samples, overhead);
    crate::bench_procs::rows(unit, samples, overhead);
    crate::bench_shell::rows(unit, samples, overhead);

    // User space only: the clock page, no syscall. One read in a function
    // of its own, minus the same call of a function that returns a
    // constant, so that neither the call nor how the compiler schedules
    // the code around the TSC reads counts.
    measure(samples, overhead, || {
        core::hint::black_box(clock_read_once());
    });
    let (call, _, _) = {
        let mut empty = [0u64; 1000];
        measure(&mut empty, overhead, || {
            core::hint::black_box(constant_once());
        });
        summarize(&mut empty)
    };
    for sample in samples.iter_mut() {
        *sample = sample.saturating_sub(call);
    }
    report("clock_read", unit, samples);

    match ioport_out(boot, samples, overhead) {
        Ok(()) => report("ioport_out", unit, samples),
        Err(e) => println!("bench ioport_out could not run: {e}"),
    }
    match deadline_error_us(&mut samples[..DEADLINE_SAMPLES]) {
        Ok(()) => report(
            "timer_deadline_error_us",
            "us",
            &mut samples[..DEADLINE_SAMPLES],
        ),
        Err(e) => println!("bench timer_deadline_error_us could not run: {e}"),
    }
    match irq_to_user(boot, &mut samples[..IRQ_SAMPLES]) {
        Ok(()) => report("irq_to_user", unit, &mut samples[..IRQ_SAMPLES]),
        Err(e) => println!("bench irq_to_user could not run: {e}"),
    }

    pair_rows(unit, "");

    memory_rows(unit, samples, overhead);
    crate::bench_futex::row(unit);

    println!("BENCH-DONE");
    let _ = crate::raw::debug_exit(CapSlot(boot.debug_cap), 0);
    0
}

/// The cross-address-space rows whose names contain `only`.
fn pair_rows(unit: &str, only: &str) {
    let pairs = [
        ("ipc_call_reply_fast", BenchKind::Call0),
        ("ipc_call_reply_fast_4w", BenchKind::Call4),
        ("ipc_call_reply_slow", BenchKind::Call10),
        ("ipc_call_reply_cap", BenchKind::CallCap),
        ("notify_roundtrip", BenchKind::Notify),
        ("yield_roundtrip", BenchKind::Yield),
        ("signal_wake_higher", BenchKind::SignalHigher),
        ("signal_no_switch", BenchKind::SignalLower),
        ("fault_roundtrip", BenchKind::Fault),
    ];
    for (name, kind) in pairs.into_iter().filter(|(name, _)| name.contains(only)) {
        match cross_space(kind) {
            Ok([median, p10, p90, count]) => {
                println!("BENCH {name} {unit} {median} {p10} {p90} {count}")
            }
            Err(e) => println!("bench {name} could not run: {e}"),
        }
    }
}

/// The two reports of a cross-address-space pair, in either order: the
/// client's figures and the partner's own user time.
pub(crate) fn collect_reports(results: CapSlot) -> (Option<[u64; 4]>, Option<u64>) {
    let (mut figures, mut partner_time) = (None, None);
    for _ in 0..2 {
        let Ok(report) = sys::recv(results) else {
            break;
        };
        match report.message.info.label() {
            CLIENT_REPORT => figures = Some(report.message.words),
            PARTNER_REPORT => partner_time = Some(report.message.words[0]),
            _ => {}
        }
    }
    (figures, partner_time)
}

/// The memory rows (`bench_vm`), each reported as soon as it has run.
fn memory_rows(unit: &str, samples: &mut [u64], overhead: u64) {
    use crate::bench_vm::{FAULT_PAGES, clone_1000, fault_cow, fault_zero, map_unmap, pager};
    type Bench = fn(&mut [u64], u64) -> Result<(), SysError>;
    let rows: [(&str, Bench, usize); 5] = [
        ("page_fault_zero", fault_zero, FAULT_PAGES),
        ("page_fault_cow", fault_cow, FAULT_PAGES),
        ("map_unmap_page", |s, o| map_unmap(s, o, WARMUP), ITERATIONS),
        ("aspace_clone_1000", |s, o| clone_1000(s, o, 20), 200),
        ("pager_fault_roundtrip", pager, 1000),
    ];
    for (name, bench, count) in rows {
        match bench(&mut samples[..count], overhead) {
            Ok(()) => report(name, unit, &mut samples[..count]),
            Err(e) => println!("bench {name} could not run: {e}"),
        }
    }
}

/// One `out` to the POST port by a thread bound to it, as the driver sees
/// it (the bitmap already open: the first access of a run opens it).
fn ioport_out(boot: &BootInfo, samples: &mut [u64], overhead: u64) -> Result<(), SysError> {
    const POST: u16 = 0x80;
    let own = rt::process::own_caps();
    let me = current_thread();
    let ports = sys::io_ports_create(CapSlot(boot.io_space_cap), own.budget, POST.into(), 1)?;
    sys::io_ports_bind(ports, me)?;
    measure(samples, overhead, || crate::cpu::port_out_once(POST));
    sys::io_ports_unbind(ports, me)?;
    sys::cap_delete(ports)
}

/// One clock read, out of line (the `clock_read` row).
#[inline(never)]
fn clock_read_once() -> u64 {
    rt::time::now_ns()
}

/// The same call shape with nothing in it (the `clock_read` row's base).
#[inline(never)]
fn constant_once() -> u64 {
    core::hint::black_box(0)
}

/// Deadlines measured by `timer_deadline_error_us`.
const DEADLINE_SAMPLES: usize = 200;

/// How late a deadline wakes its waiter, in microseconds (rounded up):
/// a `Wait` with a deadline 1 ms ahead on a notification nobody signals,
/// from the deadline to the clock read right after `TimedOut` returns.
fn deadline_error_us(samples: &mut [u64]) -> Result<(), SysError> {
    let own = rt::process::own_caps();
    let notification = sys::notification_create(own.budget)?;
    let mut result = Ok(());
    for sample in samples.iter_mut() {
        let deadline = rt::time::now_ns() + 1_000_000;
        match sys::wait_until(notification, deadline) {
            Err(SysError::TimedOut) => {}
            Err(e) => result = Err(e),
            Ok(_) => result = Err(SysError::InvalidArg),
        }
        let late = rt::time::now_ns().saturating_sub(deadline);
        *sample = late.div_ceil(1000);
    }
    sys::cap_delete(notification)?;
    result
}

/// Interrupts measured by `irq_to_user`.
const IRQ_SAMPLES: usize = 200;

/// From a device interrupt reaching the kernel (the TSC the trap records
/// first thing, `KernelCounters::last_irq_tsc`) to the first instruction
/// of the driver thread waiting for it, the CPU idle before: the RTC's
/// periodic interrupt (ISA IRQ 8) through the I/O APIC, delivered to a
/// notification the thread waits on.
fn irq_to_user(boot: &BootInfo, samples: &mut [u64]) -> Result<(), SysError> {
    let own = rt::process::own_caps();
    let me = current_thread();
    let debug = CapSlot(boot.debug_cap);
    let ports = sys::io_ports_create(
        CapSlot(boot.io_space_cap),
        own.budget,
        crate::rtc::INDEX.into(),
        2,
    )?;
    sys::io_ports_bind(ports, me)?;
    let irq = sys::irq_create(
        CapSlot(boot.irq_control_cap),
        own.budget,
        abi::syscall::IrqSource::Isa(8),
    )?;
    let notification = sys::notification_create(own.budget)?;
    sys::irq_bind(irq, notification, 1)?;
    crate::rtc::periodic(true);
    let mut result = Ok(());
    for (i, sample) in samples.iter_mut().enumerate() {
        result = sys::wait(notification).map(|_| ());
        let arrived = tsc_end();
        let counters = sys::debug_counters(debug);
        crate::rtc::acknowledge();
        let _ = sys::irq_ack(irq);
        match (result, counters) {
            (Ok(()), Ok(counters)) => *sample = arrived.saturating_sub(counters.last_irq_tsc),
            (Err(e), _) | (_, Err(e)) => {
                result = Err(e);
                *sample = i as u64;
                break;
            }
        }
    }
    crate::rtc::periodic(false);
    for slot in [irq, notification] {
        sys::cap_delete(slot)?;
    }
    sys::io_ports_unbind(ports, me)?;
    sys::cap_delete(ports)?;
    result
}

/// Create, start, exit (the thread's first instruction) and destroy.
/// The running thread's capability (the main thread, not the first
/// program's first thread, which waits for the exit).
fn current_thread() -> CapSlot {
    use rt::handle::Handle;
    rt::thread::current().map_or(CapSlot::NULL, |t| t.thread().slot())
}

/// Calls measured for `protocol_call_roundtrip`.
const PROTOCOL_SAMPLES: usize = 2000;

/// `protocol_call_roundtrip`: the generated `Echo::ping` client calling
/// the `echo-server` program (another process), the server's generated
/// dispatch answering: one word each way, user code included.
fn protocol_call_roundtrip(unit: &str, samples: &mut [u64], overhead: u64) {
    let server = crate::tests::protocol::start_server("bin/echo-server", &["echo-server"]);
    let Ok((_child, endpoint)) = server else {
        println!("bench: cannot start bin/echo-server");
        return;
    };
    // A client owns its endpoint capability (a copy; the server's stays).
    let Ok(own) = rt::handle::Handle::copy(&endpoint, abi::Rights::WRITE) else {
        println!("bench: cannot copy the endpoint");
        return;
    };
    let mut client = protocols::echo::EchoClient::new(own);
    for i in 0..WARMUP as u64 {
        if client.ping(i) != Ok(i) {
            println!("bench: ping failed");
            return;
        }
    }
    for (i, s) in samples.iter_mut().enumerate() {
        let start = tsc_start();
        let answer = client.ping(i as u64);
        let end = tsc_end();
        core::hint::black_box(answer).ok();
        *s = (end - start).saturating_sub(overhead);
    }
    report("protocol_call_roundtrip", unit, samples);
}

/// Round trips measured for `ring_roundtrip`.
const RING_SAMPLES: usize = 2000;

/// `ring_roundtrip`: one submission (a no-op) through a shared-memory
/// ring to a `ring-peer` of the runner's own, in another process at the
/// runner's priority, and its completion back, both sides sleeping in
/// between (docs/ring.md, "Wake-ups"). A sample is: the client pushes,
/// publishes the SQ tail and calls the ring's doorbell
/// (`Client::submit_and_wait`); the peer's thread, asleep in a receive on
/// it, wakes, serves the batch, publishes the completion, finds nothing
/// more and goes back to sleep answering the call (`ReplyRecv`); the
/// client loads the CQ tail, takes the completion and releases the slot.
/// User code of both sides included, as in `protocol_call_roundtrip`.
fn ring_roundtrip(unit: &str, samples: &mut [u64], overhead: u64) {
    use crate::tests::ring::{TestRing, start_peer};
    let Ok((_child, mut peer)) = start_peer(32) else {
        println!("bench: cannot start bin/ring-peer");
        return;
    };
    let geometry = ring::Geometry {
        sq_entries: 8,
        cq_entries: 8,
        data_bytes: 0,
    };
    let Ok(mut ring) = TestRing::open(&mut peer, 7, geometry) else {
        println!("bench: cannot attach a ring to bin/ring-peer");
        return;
    };
    let client = &mut ring.client;
    let mut once = |i: u64| -> bool {
        let sqe = ring::Sqe {
            arg: i,
            user_data: i,
            ..ring::Sqe::default()
        };
        if client.push(&sqe).is_err() {
            return false;
        }
        let mut ready = client.submit_and_wait(None);
        while let Ok(0) = ready {
            ready = client.wait(None);
        }
        if ready.is_err() {
            return false;
        }
        let answer = client.pop();
        client.release().is_ok() && matches!(answer, Ok(Some(c)) if c.user_data == i)
    };
    for i in 0..WARMUP as u64 {
        if !once(i) {
            println!("bench: a ring round trip failed");
            return;
        }
    }
    for (i, s) in samples.iter_mut().enumerate() {
        let start = tsc_start();
        let ok = once(i as u64);
        let end = tsc_end();
        core::hint::black_box(ok);
        *s = (end - start).saturating_sub(overhead);
    }
    report("ring_roundtrip", unit, samples);
    let _ = ring.close(&mut peer);
}

/// Restarts measured for `driver_restart`.
const RESTART_SAMPLES: usize = 50;

/// `driver_restart`: from the serial driver's death to the first call the
/// new instance answers, with the test configuration's zero backoff. One
/// sample is init's `kill` (init revokes the instance's budget, its
/// policy says restart now, init loads `bin/serial` again and replies),
/// then an `info` call queued on the driver's endpoint until the new
/// instance has reset the UART, bound its IRQ and started serving.
fn driver_restart(unit: &str, samples: &mut [u64], overhead: u64) {
    use abi::startup::handle;
    use rt::handle::Handle;
    let startup = rt::start::startup_info();
    let slots = startup.and_then(|s| {
        Some((
            s.handle(handle::SUPERVISOR)?,
            s.handle_named(handle::CLIENT, "serial")?,
        ))
    });
    let Some((supervisor, serial)) = slots else {
        println!("bench: driver_restart needs init's supervisor and serial driver");
        return;
    };
    // The startup page's slots stay: these handles are never dropped.
    let supervisor = core::mem::ManuallyDrop::new(rt::ipc::Endpoint::from_raw(supervisor));
    let serial = core::mem::ManuallyDrop::new(rt::ipc::Endpoint::from_raw(serial));
    let (supervisor, serial): (&rt::ipc::Endpoint, &rt::ipc::Endpoint) = (&supervisor, &serial);
    let mut supervisor = protocols::supervisor::SupervisorClient::new(supervisor);
    let mut client = protocols::serial::SerialClient::new(serial);
    let mut once = || supervisor.kill("serial").is_ok() && client.info().is_ok();
    for _ in 0..3 {
        if !once() {
            println!("bench: restarting the serial driver failed");
            return;
        }
    }
    for s in samples.iter_mut() {
        let start = tsc_start();
        once();
        let end = tsc_end();
        *s = (end - start).saturating_sub(overhead);
    }
    report("driver_restart", unit, samples);
}

/// Spawns measured for `load_exit`.
const SPAWN_SAMPLES: usize = 200;

/// `load_exit`: the loader alone (`rt::spawn`, no process server): load
/// `bin/tiny` from the initramfs (ASLR off, so every run is the same) and
/// wait until its exit message arrives; the child is destroyed before the
/// next. `spawn_exit` (bench_procs.rs) is the same through the process
/// server.
fn load_exit(unit: &str, samples: &mut [u64], overhead: u64) {
    let Some(file) = crate::tests::spawn::program("bin/tiny") else {
        println!("bench: bin/tiny is not in the initramfs");
        return;
    };
    let once = || {
        let status = rt::spawn::Spawn::new(file)
            .aslr(false)
            .spawn()
            .ok()
            .and_then(|mut child| child.wait().ok());
        status == Some(rt::spawn::ExitStatus::Exited(0))
    };
    for _ in 0..20 {
        if !once() {
            println!("bench: spawning bin/tiny failed");
            return;
        }
    }
    for s in samples.iter_mut() {
        let start = tsc_start();
        once();
        let end = tsc_end();
        *s = (end - start).saturating_sub(overhead);
    }
    report("load_exit", unit, samples);
}

fn thread_lifecycle() {
    let own = rt::process::own_caps();
    let Ok(thread) = sys::thread_create(own.budget, own.aspace, own.cspace) else {
        return;
    };
    let entry = crate::cpu::exit_at_once as *const () as u64;
    // The thread exits before touching its stack.
    let _ = sys::thread_start(thread, entry, abi::layout::STACK_TOP - 8, 0, 0);
    let _ = sys::thread_wait(thread);
    let _ = sys::cap_delete(thread);
}

/// Runs one client/partner pair in two new address spaces and returns the
/// client's `[median, p10, p90, samples]`.
fn cross_space(kind: BenchKind) -> Result<[u64; 4], SysError> {
    let own = rt::process::own_caps();
    let endpoint = sys::endpoint_create(own.budget)?;
    let results = sys::endpoint_create(own.budget)?;
    let ping = sys::notification_create(own.budget)?;
    let pong = sys::notification_create(own.budget)?;
    let go_client = sys::notification_create(own.budget)?;
    let go_partner = sys::notification_create(own.budget)?;
    let all = Rights::all();
    let grants = |go| {
        [
            grant(crate::tests::debug_cap(), peer::DEBUG, all),
            grant(endpoint, peer::ENDPOINT, all),
            grant(results, peer::RESULTS, Rights::WRITE),
            grant(ping, peer::SPARE, all),
            grant(ping, peer::PING, all),
            grant(pong, peer::PONG, all),
            grant(go, GO, all),
        ]
    };
    let outcome = (|| {
        let partner = spawn_copy(bench_pair::partner, kind as u64, &grants(go_partner))?;
        let client = match spawn_copy(bench_pair::client, kind as u64, &grants(go_client)) {
            Ok(client) => client,
            Err(e) => {
                partner.destroy();
                return Err(e);
            }
        };
        if let Err(e) = start_on_go(kind, &client, &partner, go_client, go_partner) {
            client.destroy();
            partner.destroy();
            return Err(e);
        }
        let (figures, partner_time) = collect_reports(results);
        client.destroy();
        partner.destroy();
        let (Some(figures), Some(partner_time)) = (figures, partner_time) else {
            return Err(SysError::PeerClosed);
        };
        let [median, p10, p90, count] = figures;
        Ok([
            median.saturating_sub(partner_time),
            p10.saturating_sub(partner_time),
            p90.saturating_sub(partner_time),
            count,
        ])
    })();
    for slot in [endpoint, results, ping, pong, go_client, go_partner] {
        let _ = sys::cap_delete(slot);
    }
    outcome
}

/// For the kinds that start on [`GO`]: gives the client its fault
/// endpoint (for [`BenchKind::Fault`]), runs the partner alone until it
/// blocks in its loop (above this thread's priority, so that it runs at
/// once), then gives both their benchmark priorities (below this
/// thread's) and lets the client go, which runs as soon as this thread
/// waits for the reports.
fn start_on_go(
    kind: BenchKind,
    client: &crate::copy_spawn::Child,
    partner: &crate::copy_spawn::Child,
    go_client: CapSlot,
    go_partner: CapSlot,
) -> Result<(), SysError> {
    let Some((client_priority, partner_priority)) = kind.priorities() else {
        return Ok(());
    };
    if kind == BenchKind::Fault {
        sys::thread_configure(
            client.thread,
            crate::copy_spawn::CHILD_IPC_BUFFER,
            peer::ENDPOINT,
        )?;
    }
    const ABOVE_RUNNER: u64 = 40;
    sys::thread_set_priority(partner.thread, ABOVE_RUNNER, ABOVE_RUNNER)?;
    sys::signal(go_partner, 1)?;
    sys::thread_set_priority(partner.thread, partner_priority, partner_priority)?;
    sys::thread_set_priority(client.thread, client_priority, client_priority)?;
    sys::signal(go_client, 1)
}
