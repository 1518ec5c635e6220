//! The in-OS tests: a table of named functions, each run in its own thread.
//! A test returns `Err` with a message, or faults, to fail.

mod boot_info;
mod clock;
mod console;
mod cspace;
mod cspace_many;
mod faults;
mod files;
mod futex;
mod ioports;
mod ipc;
mod ipc_bytes;
mod ipc_caps;
mod ipc_leases;
mod ipc_limits;
mod irq;
mod memory;
mod notify;
mod pipes;
mod pipes_direct;
mod pipes_shared;
mod populate;
mod preempt;
mod process;
mod procs;
pub mod protocol;
mod ramfs;
mod ramfs_clients;
mod ramfs_ring;
mod read_bytes;
pub mod ring;
mod runtime;
mod saved_reply;
mod saved_reply_recv;
mod sched;
mod serial;
pub mod sh;
mod sh_console;
mod sh_lang;
pub mod spawn;
mod stress;
pub mod supervision;
mod support;
mod syscalls;
mod threads;
mod timeouts;
mod usercopy;
mod vm;
mod vm_faults;
mod wire;

use crate::sysfuzz;
use abi::CapSlot;
use abi::boot::BootInfo;
pub use support::warm_up;

/// A failed check: what was expected, where.
pub struct Failure {
    /// The check that failed.
    pub what: &'static str,
    /// Source file.
    pub file: &'static str,
    /// Source line.
    pub line: u32,
}

/// What a test returns.
pub type TestResult = Result<(), Failure>;

/// One test.
pub struct Test {
    /// Unique, lower_snake_case, grouped by prefix.
    pub name: &'static str,
    /// The test body.
    pub run: fn() -> TestResult,
}

/// Fails the test unless `cond` holds.
#[macro_export]
macro_rules! ensure {
    ($cond:expr) => {
        if !$cond {
            return Err($crate::tests::Failure {
                what: stringify!($cond),
                file: file!(),
                line: line!(),
            });
        }
    };
}

/// Fails the test unless `left == right`, printing both.
#[macro_export]
macro_rules! ensure_eq {
    ($left:expr, $right:expr) => {{
        let (l, r) = (&$left, &$right);
        if l != r {
            rt::println!("    left:  {:?}\n    right: {:?}", l, r);
            return Err($crate::tests::Failure {
                what: concat!(stringify!($left), " == ", stringify!($right)),
                file: file!(),
                line: line!(),
            });
        }
    }};
}

/// Every test, in running order. A test's name is its module and
/// function (`ipc_call_reply` is `ipc::call_reply`), so a name always
/// leads to its code.
macro_rules! tests {
    ($($module:ident :: $function:ident),* $(,)?) => {
        &[$(Test {
            name: concat!(stringify!($module), "_", stringify!($function)),
            run: $module::$function,
        }),*]
    };
}

pub static ALL: &[Test] = tests![
    syscalls::null,
    boot_info::entropy,
    syscalls::unknown_number,
    syscalls::debug_write_ok,
    syscalls::debug_write_errors,
    syscalls::debug_exit_errors,
    syscalls::frame_count,
    syscalls::log_read,
    syscalls::log_read_errors,
    syscalls::clock_read,
    clock::matches_syscall,
    clock::contents,
    clock::other_threads_and_spaces,
    clock::read_only,
    clock::not_mappable,
    ioports::create,
    ioports::create_errors,
    ioports::access,
    ioports::fault_to_endpoint,
    ioports::revoked,
    ioports::bind_errors,
    ioports::bind_ended,
    irq::delivery,
    irq::badged_delivery,
    irq::dead_handler,
    irq::errors,
    threads::create_and_wait,
    threads::create_errors,
    threads::start_errors,
    threads::start_tls,
    threads::wait_errors,
    threads::yield_ok,
    threads::preemption,
    threads::fpu_preserved,
    threads::fs_base_preserved,
    cspace::copy_rights,
    cspace::copy_errors,
    cspace::delete_basic,
    cspace::info,
    cspace::space_full,
    usercopy::null,
    usercopy::unmapped,
    usercopy::kernel_half,
    usercopy::non_canonical,
    usercopy::wrapping,
    usercopy::straddle,
    usercopy::read_only,
    usercopy::across_pages,
    faults::unmapped_read,
    faults::null_write,
    faults::kernel_read,
    faults::write_read_only,
    faults::execute_nx,
    faults::hlt,
    faults::cli,
    faults::mov_cr3,
    faults::port_in,
    faults::port_out,
    faults::divide,
    faults::int3,
    faults::ud2,
    faults::int80,
    faults::jump_non_canonical,
    faults::jump_kernel,
    faults::bad_stack,
    faults::sgdt,
    faults::syscall_bad_stack,
    faults::still_alive,
    process::every_length_across_spaces,
    process::server_gone_mid_call,
    process::fast_path_taken,
    process::long_fast_path_taken,
    preempt::revoke_preempted_by_timer,
    stress::storm,
    memory::threads_cycle,
    memory::caps_cycle,
    ipc::send_recv_badge,
    ipc::call_reply,
    ipc::nonblocking,
    ipc::reply_rules,
    ipc::reply_to_deleted_caller,
    ipc::call_peer_closed,
    ipc::second_call_while_holding_reply,
    ipc::reply_recv_with_sender_queued,
    ipc::device_memory_buffers,
    ipc::transfer_error_sides,
    ipc::endpoint_deleted_wakes_waiters,
    ipc::deleted_thread_leaves_queue,
    ipc::priority_order,
    ipc_limits::every_length,
    ipc_caps::caps_transfer,
    ipc_caps::caps_transfer_errors,
    ipc_caps::reply_transfer_errors,
    ipc_limits::errors,
    ipc_limits::configure_errors,
    saved_reply::reverse_order,
    saved_reply::save_errors,
    saved_reply::with_errors,
    saved_reply::delete_answers_peer_closed,
    saved_reply::server_space_destroyed,
    saved_reply::caller_killed,
    ipc_leases::lease_reply_lost,
    ipc_bytes::reply_lands_in_window,
    ipc_bytes::call_carries_bytes,
    ipc_bytes::sender_errors,
    ipc_bytes::receiver_errors,
    saved_reply::no_copy_or_mint,
    saved_reply::many_cycles,
    saved_reply_recv::saves_then_receives,
    saved_reply_recv::errors,
    cspace::copy,
    cspace::mint,
    cspace::move_cap,
    cspace::delete,
    cspace::delete_own_thread,
    cspace::revoke,
    cspace::detach,
    cspace::delete_range,
    cspace_many::copy_many,
    cspace_many::copy_many_entry_errors,
    cspace_many::copy_many_call_errors,
    cspace_many::copy_many_check,
    cspace::endpoint_watch,
    cspace::across_spaces,
    cspace::create_errors,
    cspace::delete_space_deletes_caps,
    cspace::cycle_endpoints,
    cspace::cycle_notifications,
    cspace::cycle_cspaces,
    cspace::cycle_threads_unstarted,
    cspace::cycle_threads_run,
    notify::signal_poll_wait,
    notify::badges_ored,
    notify::errors,
    notify::wait_blocks,
    notify::waiters_priority_order,
    notify::destroyed_while_waiting,
    notify::bound,
    notify::bound_reply_right,
    notify::bind_errors,
    notify::timer,
    sched::set_priority_errors,
    sched::preemption_on_wake,
    sched::strict_priority,
    sched::call_suspended_receiver,
    sched::ipc_wakes_respect_priority,
    sched::suspend_resume,
    sched::suspend_blocked_and_self,
    sched::regs_read_write,
    sched::regs_errors,
    vm::lazy_zero_fill,
    vm::fault_around,
    vm::map_errors,
    vm::unmap_protect_split,
    vm::cow_clone,
    vm::shared_clone,
    vm::resize,
    vm::device_memory,
    vm::exec_switch,
    vm::exec_tls,
    vm_faults::fault_endpoint,
    vm_faults::budget_runs_out,
    vm_faults::budget_bundle_destroyed,
    vm_faults::lend_head_tail,
    vm::usercopy_lazy_and_cow,
    vm_faults::clone_out_of_memory_keeps_nothing,
    populate::ok,
    populate::device_memory_costs_nothing,
    populate::max_pages,
    populate::errors,
    populate::out_of_memory,
    timeouts::recv,
    timeouts::wait,
    timeouts::send,
    timeouts::call,
    timeouts::reply_recv,
    timeouts::order,
    timeouts::waiter_gone,
    timeouts::suspended,
    timeouts::fast_path_declines,
    futex::wait_wake,
    futex::value_mismatch,
    futex::wait_timeout,
    futex::wait_errors,
    futex::wake_errors_and_counts,
    futex::priority_order,
    futex::requeue,
    futex::cross_process,
    futex::cow_separation,
    futex::memory_gone,
    futex::storm,
    sysfuzz::seed_1,
    sysfuzz::seed_2,
    sysfuzz::seed_3,
    sysfuzz::seed_2024,
    sysfuzz::seed_7_long,
    runtime::handles_own_slots,
    runtime::message_every_size,
    runtime::sys_ipc_names,
    runtime::deadlines,
    runtime::threads_with_closures,
    runtime::threads_detached,
    runtime::thread_local_values,
    runtime::heap_grows,
    runtime::mutex_contended,
    runtime::condvar_queue,
    runtime::once_races,
    runtime::sleep_and_time,
    spawn::tiny_exits,
    spawn::args_and_env,
    spawn::panic_ends_process,
    spawn::threads_in_child,
    spawn::heap_exhaustion,
    spawn::c_program,
    spawn::every_program_loads,
    spawn::services_checked,
    spawn::fork_services_checked,
    spawn::hostile_files,
    spawn::frames_come_back,
    protocol::every_operation,
    protocol::malformed_requests,
    protocol::server_killed_mid_call,
    ring::round_trip,
    ring::batch_one_wake,
    ring::attach_errors,
    ring::detach_while_waiting_for_room,
    ring::hostile_refused,
    supervision::exact_capabilities,
    supervision::errors,
    supervision::manifests_enforced,
    supervision::outside_port_faults,
    supervision::backoff_then_give_up,
    supervision::clean_exit_stays_down,
    supervision::kill_and_restart,
    serial::write_returns_count,
    serial::read_nonblocking_empty,
    serial::read_times_out,
    serial::loopback_through_interrupt,
    serial::malformed_requests,
    serial::killed_reader_gets_peer_closed,
    serial::blocked_reader_does_not_stop_writer,
    serial::echoes_a_fed_line,
    serial::killed_a_hundred_times,
    files::initfs_reads_files,
    files::initfs_offsets_and_dup,
    files::initfs_lists_directories,
    files::initfs_errors,
    files::initfs_stale_and_forged,
    files::initfs_frames_come_back,
    files::null_namespace_and_passing_one,
    files::open_limit_per_session,
    ramfs::files_round_trip,
    ramfs::directories,
    ramfs::errors,
    ramfs::shared_files,
    ramfs::space_runs_out,
    ramfs::killed_server,
    ramfs_clients::two_programs_write_at,
    ramfs_clients::two_programs_share_an_offset,
    ramfs_clients::one_program_writes_another_reads,
    ramfs_ring::round_trip,
    ramfs_ring::open_mode,
    ramfs_ring::hostile_refused,
    read_bytes::ramfs_reads,
    read_bytes::errors,
    read_bytes::hostile_window,
    read_bytes::initfs_reads,
    pipes::round_trip_eof_and_broken,
    pipes::blocking_reads_and_writes,
    pipes::atomic_writes,
    pipes::three_programs,
    pipes::server_killed_under_a_waiting_reader,
    console::opens_through_the_namespace,
    console::file_operations_and_errors,
    console::devices,
    console::cooked_line_editing,
    console::blocking_reads_wait_in_order,
    console::signals_answer_every_waiter,
    console::raw_mode_passes_bytes_intact,
    console::reader_killed_while_waiting,
    console::survives_a_terminal_restart,
    console::killed_under_waiting_callers,
    procs::spawn_and_exit_codes,
    procs::spawn_errors,
    procs::spawn_from_ramfs_and_map,
    procs::wait_and_kill,
    procs::fork_basics,
    procs::exec_basics,
    procs::fault_reported,
    procs::kill_mid_call,
    procs::stdio_is_the_childs_own,
    procs::killed_writer_ends_the_pipe,
    procs::orphans_reaped,
    procs::inheritance,
    procs::budget_exhausted,
    procs::fork_bomb_contained,
    procs::listed,
    procs::session_ended,
    procs::spawn_kill_cycles,
    pipes_shared::round_trip,
    pipes_shared::atomic_writes,
    pipes_shared::hostile_refused,
    pipes_direct::pingpong_eof_broken,
    pipes_direct::many_writers_and_readers,
    pipes_direct::killed_while_blocked,
    pipes_direct::killed_holding_the_lock,
    pipes_direct::hostile_scribbles,
    sh::basics,
    sh::pipelines,
    sh::redirections,
    sh::compound,
    sh::builtins,
    sh::jobs,
    sh::statuses,
    sh::coreutils_pipelines,
    sh::hundred_trues_frames,
    sh::fork_bomb,
    sh::utilities,
    sh::devices,
    sh::reads_stdin_a_command_at_a_time,
    sh_lang::arithmetic,
    sh_lang::command_substitution,
    sh_lang::case_command,
    sh_lang::functions,
    sh_lang::type_and_command,
    sh_lang::exec_builtin,
    sh_console::interrupt_sleep,
    sh_console::line_editor,
    sh_console::pipeline_and_fault,
    sh_console::fork_bomb,
    sh_console::ctrl_d_ends_the_shell,
];

/// Thread body: runs test number `index`; exit code 0 = pass.
pub fn run_one(index: u64) -> u64 {
    let Some(test) = ALL.get(index as usize) else {
        return 2;
    };
    touch_stack();
    match (test.run)() {
        Ok(()) => 0,
        Err(f) => {
            rt::println!("    check failed at {}:{}: {}", f.file, f.line, f.what);
            1
        }
    }
}

/// Touches the test thread's stack down to [`TOUCHED_STACK`] bytes, so
/// that a test that counts free frames does not see its own stack grow
/// into fresh pages as a leak.
#[inline(never)]
fn touch_stack() {
    let mut area = [0u8; TOUCHED_STACK];
    for byte in area.iter_mut().step_by(4096) {
        *byte = 1;
    }
    core::hint::black_box(&mut area);
}

/// Stack bytes [`touch_stack`] touches (the harness gives each test
/// thread [`TEST_STACK`]).
const TOUCHED_STACK: usize = 96 * 1024;
/// Stack of each test's thread.
pub const TEST_STACK: u64 = 128 * 1024;

/// The boot information page.
pub fn boot() -> &'static BootInfo {
    rt::start::boot_info().expect("the first program has boot info")
}

/// The debug capability.
pub fn debug_cap() -> CapSlot {
    CapSlot(boot().debug_cap)
}

/// The program's own address space.
pub fn aspace_cap() -> CapSlot {
    CapSlot(boot().aspace_cap)
}
