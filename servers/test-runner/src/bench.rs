//! In-OS benchmarks: each prints `BENCH <name> <unit> <median> <p10> <p90>
//! <iterations>`, then `BENCH-DONE`, then the run ends. Every sample has
//! the measured overhead of an empty measurement subtracted.

use abi::boot::BootInfo;
use abi::{CapSlot, Rights, SysError};
use rt::bench::{summarize, timed_overhead, timed_syscall, tsc_end, tsc_start};
use rt::println;
use rt::process::spawn_copy;
use rt::sys;

use crate::bench_pair::{self, BenchKind, CLIENT_REPORT, PARTNER_REPORT};
use crate::peer::{self, grant};

const ITERATIONS: usize = 10_000;
const WARMUP: usize = 1_000;

fn report(name: &str, unit: &str, samples: &mut [u64]) {
    let (median, p10, p90) = summarize(samples);
    println!("BENCH {name} {unit} {median} {p10} {p90} {}", samples.len());
}

fn measure(samples: &mut [u64], overhead: u64, mut op: impl FnMut()) {
    for _ in 0..WARMUP {
        op();
    }
    for s in samples.iter_mut() {
        let start = tsc_start();
        op();
        let end = tsc_end();
        *s = (end - start).saturating_sub(overhead);
    }
}

/// Runs every benchmark and ends the run.
pub fn run(boot: &BootInfo) -> u64 {
    let unit = core::str::from_utf8(boot.cmdline())
        .ok()
        .and_then(|c| c.split_whitespace().find_map(|w| w.strip_prefix("unit=")))
        .unwrap_or("instructions");
    let mut samples = [0u64; ITERATIONS];
    let samples = &mut samples[..];

    // The empty measurement.
    measure(samples, 0, || {});
    let (overhead, _, _) = summarize(samples);

    let boot_to_user = rt::start::start_tsc().saturating_sub(boot.kernel_entry_tsc);
    println!("BENCH boot_to_user {unit} {boot_to_user} {boot_to_user} {boot_to_user} 1");

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

    let pairs = [
        ("ipc_call_reply_fast", BenchKind::Call0),
        ("ipc_call_reply_fast_4w", BenchKind::Call4),
        ("ipc_call_reply_slow", BenchKind::Call10),
        ("ipc_call_reply_cap", BenchKind::CallCap),
        ("notify_roundtrip", BenchKind::Notify),
        ("yield_roundtrip", BenchKind::Yield),
    ];
    for (name, kind) in pairs {
        match cross_space(kind) {
            Ok([median, p10, p90, count]) => {
                println!("BENCH {name} {unit} {median} {p10} {p90} {count}")
            }
            Err(e) => println!("bench {name} could not run: {e}"),
        }
    }

    memory_rows(unit, samples, overhead);
    crate::bench_futex::row(unit);

    println!("BENCH-DONE");
    let _ = rt::sys::debug_exit(CapSlot(boot.debug_cap), 0);
    0
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

/// Create, start, exit (the thread's first instruction) and destroy.
fn thread_lifecycle() {
    let own = rt::thread::own_caps();
    let Ok(thread) = sys::thread_create(own.budget, own.aspace, own.cspace) else {
        return;
    };
    let entry = crate::cpu::exit_at_once as *const () as u64;
    // The thread exits before touching its stack.
    let _ = sys::thread_start(thread, entry, abi::layout::STACK_TOP - 8, 0);
    let _ = sys::thread_wait(thread);
    let _ = sys::cap_delete(thread);
}

/// Runs one client/partner pair in two new address spaces and returns the
/// client's `[median, p10, p90, samples]`.
fn cross_space(kind: BenchKind) -> Result<[u64; 4], SysError> {
    let own = rt::thread::own_caps();
    let endpoint = sys::endpoint_create(own.budget)?;
    let results = sys::endpoint_create(own.budget)?;
    let ping = sys::notification_create(own.budget)?;
    let pong = sys::notification_create(own.budget)?;
    let all = Rights::all();
    let grants = [
        grant(peer::DEBUG, peer::DEBUG, all),
        grant(endpoint, peer::ENDPOINT, all),
        grant(results, peer::RESULTS, Rights::WRITE),
        grant(ping, peer::SPARE, all),
        grant(ping, peer::PING, all),
        grant(pong, peer::PONG, all),
    ];
    let outcome = (|| {
        let partner = spawn_copy(bench_pair::partner, kind as u64, &grants)?;
        let client = match spawn_copy(bench_pair::client, kind as u64, &grants) {
            Ok(client) => client,
            Err(e) => {
                partner.destroy();
                return Err(e);
            }
        };
        // Both report, in either order.
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
    for slot in [endpoint, results, ping, pong] {
        let _ = sys::cap_delete(slot);
    }
    outcome
}
