//! The in-OS tests: a table of named functions, each run in its own thread.
//! A test returns `Err` with a message, or faults, to fail.

mod boot_info;
mod caps;
mod clock;
mod cspace;
mod faults;
mod futex;
mod ioports;
mod ipc;
mod ipc_caps;
mod irq;
mod memory;
mod notify;
mod populate;
mod preempt;
mod process;
pub mod protocol;
mod runtime;
mod sched;
pub mod spawn;
mod stress;
mod support;
mod syscalls;
mod threads;
mod timeouts;
mod usercopy;
mod vm;
mod vm_faults;

use abi::CapSlot;
use abi::boot::BootInfo;
pub use support::warm_up;

/// A failed check: what was expected, where.
pub struct Failure {
    /// The check that failed.
    pub what: &'static str,
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
                line: line!(),
            });
        }
    }};
}

/// Every test, in running order.
pub static ALL: &[Test] = &[
    Test {
        name: "syscall_null",
        run: syscalls::null,
    },
    Test {
        name: "boot_info_entropy",
        run: boot_info::entropy,
    },
    Test {
        name: "syscall_unknown_number",
        run: syscalls::unknown_number,
    },
    Test {
        name: "debug_write_ok",
        run: syscalls::debug_write_ok,
    },
    Test {
        name: "debug_write_errors",
        run: syscalls::debug_write_errors,
    },
    Test {
        name: "debug_exit_errors",
        run: syscalls::debug_exit_errors,
    },
    Test {
        name: "debug_frame_count",
        run: syscalls::frame_count,
    },
    Test {
        name: "clock_read_monotonic",
        run: syscalls::clock_read,
    },
    Test {
        name: "clock_page_matches_syscall",
        run: clock::matches_syscall,
    },
    Test {
        name: "clock_page_contents",
        run: clock::contents,
    },
    Test {
        name: "clock_page_other_threads_and_spaces",
        run: clock::other_threads_and_spaces,
    },
    Test {
        name: "clock_page_read_only",
        run: clock::read_only,
    },
    Test {
        name: "clock_page_not_mappable",
        run: clock::not_mappable,
    },
    Test {
        name: "ioports_create",
        run: ioports::create,
    },
    Test {
        name: "ioports_create_errors",
        run: ioports::create_errors,
    },
    Test {
        name: "ioports_access",
        run: ioports::access,
    },
    Test {
        name: "ioports_fault_to_endpoint",
        run: ioports::fault_to_endpoint,
    },
    Test {
        name: "ioports_revoked",
        run: ioports::revoked,
    },
    Test {
        name: "ioports_bind_errors",
        run: ioports::bind_errors,
    },
    Test {
        name: "ioports_bind_ended",
        run: ioports::bind_ended,
    },
    Test {
        name: "irq_delivery",
        run: irq::delivery,
    },
    Test {
        name: "irq_badged_delivery",
        run: irq::badged_delivery,
    },
    Test {
        name: "irq_dead_handler",
        run: irq::dead_handler,
    },
    Test {
        name: "irq_errors",
        run: irq::errors,
    },
    Test {
        name: "thread_create_and_wait",
        run: threads::create_and_wait,
    },
    Test {
        name: "thread_create_errors",
        run: threads::create_errors,
    },
    Test {
        name: "thread_start_errors",
        run: threads::start_errors,
    },
    Test {
        name: "thread_start_tls",
        run: threads::start_tls,
    },
    Test {
        name: "thread_wait_errors",
        run: threads::wait_errors,
    },
    Test {
        name: "thread_yield",
        run: threads::yield_ok,
    },
    Test {
        name: "thread_preemption",
        run: threads::preemption,
    },
    Test {
        name: "thread_fpu_state_preserved",
        run: threads::fpu_preserved,
    },
    Test {
        name: "thread_fs_base_preserved",
        run: threads::fs_base_preserved,
    },
    Test {
        name: "cap_copy",
        run: caps::copy_ok,
    },
    Test {
        name: "cap_copy_errors",
        run: caps::copy_errors,
    },
    Test {
        name: "cap_delete",
        run: caps::delete,
    },
    Test {
        name: "cap_info",
        run: caps::info_ok,
    },
    Test {
        name: "cap_space_full",
        run: caps::space_full,
    },
    Test {
        name: "usercopy_null",
        run: usercopy::null,
    },
    Test {
        name: "usercopy_unmapped",
        run: usercopy::unmapped,
    },
    Test {
        name: "usercopy_kernel_half",
        run: usercopy::kernel_half,
    },
    Test {
        name: "usercopy_non_canonical",
        run: usercopy::non_canonical,
    },
    Test {
        name: "usercopy_wrapping_length",
        run: usercopy::wrapping,
    },
    Test {
        name: "usercopy_runs_into_unmapped",
        run: usercopy::straddle,
    },
    Test {
        name: "usercopy_read_only_destination",
        run: usercopy::read_only,
    },
    Test {
        name: "usercopy_across_pages",
        run: usercopy::across_pages,
    },
    Test {
        name: "fault_unmapped_read",
        run: faults::unmapped_read,
    },
    Test {
        name: "fault_null_write",
        run: faults::null_write,
    },
    Test {
        name: "fault_kernel_read",
        run: faults::kernel_read,
    },
    Test {
        name: "fault_write_read_only",
        run: faults::write_read_only,
    },
    Test {
        name: "fault_execute_no_exec",
        run: faults::execute_nx,
    },
    Test {
        name: "fault_hlt",
        run: faults::hlt,
    },
    Test {
        name: "fault_cli",
        run: faults::cli,
    },
    Test {
        name: "fault_mov_cr3",
        run: faults::mov_cr3,
    },
    Test {
        name: "fault_port_in",
        run: faults::port_in,
    },
    Test {
        name: "fault_port_out",
        run: faults::port_out,
    },
    Test {
        name: "fault_divide_by_zero",
        run: faults::divide,
    },
    Test {
        name: "fault_int3",
        run: faults::int3,
    },
    Test {
        name: "fault_ud2",
        run: faults::ud2,
    },
    Test {
        name: "fault_int_0x80",
        run: faults::int80,
    },
    Test {
        name: "fault_jump_non_canonical",
        run: faults::jump_non_canonical,
    },
    Test {
        name: "fault_jump_kernel",
        run: faults::jump_kernel,
    },
    Test {
        name: "fault_bad_stack_pointer",
        run: faults::bad_stack,
    },
    Test {
        name: "fault_sgdt_umip",
        run: faults::sgdt,
    },
    Test {
        name: "fault_syscall_with_bad_stack",
        run: faults::syscall_bad_stack,
    },
    Test {
        name: "fault_kernel_still_alive",
        run: faults::still_alive,
    },
    Test {
        name: "process_every_length_across_spaces",
        run: process::every_length_across_spaces,
    },
    Test {
        name: "process_server_gone_mid_call",
        run: process::server_gone_mid_call,
    },
    Test {
        name: "process_fast_path_taken",
        run: process::fast_path_taken,
    },
    Test {
        name: "process_long_fast_path_taken",
        run: process::long_fast_path_taken,
    },
    Test {
        name: "preempt_revoke_by_timer",
        run: preempt::revoke_preempted_by_timer,
    },
    Test {
        name: "stress_storm",
        run: stress::storm,
    },
    Test {
        name: "stress_random_syscalls",
        run: stress::random_syscalls,
    },
    Test {
        name: "memory_frames_restored_after_threads",
        run: memory::threads_cycle,
    },
    Test {
        name: "memory_frames_restored_after_caps",
        run: memory::caps_cycle,
    },
    Test {
        name: "ipc_send_recv_badge",
        run: ipc::send_recv_badge,
    },
    Test {
        name: "ipc_call_reply",
        run: ipc::call_reply,
    },
    Test {
        name: "ipc_nonblocking",
        run: ipc::nonblocking,
    },
    Test {
        name: "ipc_reply_rules",
        run: ipc::reply_rules,
    },
    Test {
        name: "ipc_reply_to_deleted_caller",
        run: ipc::reply_to_deleted_caller,
    },
    Test {
        name: "ipc_call_peer_closed",
        run: ipc::call_peer_closed,
    },
    Test {
        name: "ipc_second_call_while_holding_reply",
        run: ipc::second_call_while_holding_reply,
    },
    Test {
        name: "ipc_reply_recv_with_sender_queued",
        run: ipc::reply_recv_with_sender_queued,
    },
    Test {
        name: "ipc_device_memory_buffers",
        run: ipc::device_memory_buffers,
    },
    Test {
        name: "ipc_transfer_error_sides",
        run: ipc::transfer_error_sides,
    },
    Test {
        name: "ipc_endpoint_deleted_wakes_waiters",
        run: ipc::endpoint_deleted_wakes_waiters,
    },
    Test {
        name: "ipc_deleted_thread_leaves_queue",
        run: ipc::deleted_thread_leaves_queue,
    },
    Test {
        name: "ipc_priority_order",
        run: ipc::priority_order,
    },
    Test {
        name: "ipc_every_length",
        run: ipc::every_length,
    },
    Test {
        name: "ipc_caps_transfer",
        run: ipc_caps::caps_transfer,
    },
    Test {
        name: "ipc_caps_transfer_errors",
        run: ipc_caps::caps_transfer_errors,
    },
    Test {
        name: "ipc_reply_transfer_errors",
        run: ipc_caps::reply_transfer_errors,
    },
    Test {
        name: "ipc_errors",
        run: ipc::errors,
    },
    Test {
        name: "ipc_configure_errors",
        run: ipc::configure_errors,
    },
    Test {
        name: "cspace_copy",
        run: cspace::copy,
    },
    Test {
        name: "cspace_mint",
        run: cspace::mint,
    },
    Test {
        name: "cspace_move",
        run: cspace::move_cap,
    },
    Test {
        name: "cspace_delete",
        run: cspace::delete,
    },
    Test {
        name: "cspace_delete_own_thread",
        run: cspace::delete_own_thread,
    },
    Test {
        name: "cspace_revoke",
        run: cspace::revoke,
    },
    Test {
        name: "cspace_across_spaces",
        run: cspace::across_spaces,
    },
    Test {
        name: "cspace_create_errors",
        run: cspace::create_errors,
    },
    Test {
        name: "cspace_delete_space_deletes_caps",
        run: cspace::delete_space_deletes_caps,
    },
    Test {
        name: "cspace_cycle_1000_endpoints",
        run: cspace::cycle_endpoints,
    },
    Test {
        name: "cspace_cycle_1000_notifications",
        run: cspace::cycle_notifications,
    },
    Test {
        name: "cspace_cycle_1000_cspaces",
        run: cspace::cycle_cspaces,
    },
    Test {
        name: "cspace_cycle_1000_threads_unstarted",
        run: cspace::cycle_threads_unstarted,
    },
    Test {
        name: "cspace_cycle_1000_threads_run",
        run: cspace::cycle_threads_run,
    },
    Test {
        name: "notify_signal_poll_wait",
        run: notify::signal_poll_wait,
    },
    Test {
        name: "notify_badges_ored",
        run: notify::badges_ored,
    },
    Test {
        name: "notify_errors",
        run: notify::errors,
    },
    Test {
        name: "notify_wait_blocks",
        run: notify::wait_blocks,
    },
    Test {
        name: "notify_waiters_priority_order",
        run: notify::waiters_priority_order,
    },
    Test {
        name: "notify_destroyed_while_waiting",
        run: notify::destroyed_while_waiting,
    },
    Test {
        name: "notify_bound",
        run: notify::bound,
    },
    Test {
        name: "notify_bound_reply_right",
        run: notify::bound_reply_right,
    },
    Test {
        name: "notify_bind_errors",
        run: notify::bind_errors,
    },
    Test {
        name: "notify_timer",
        run: notify::timer,
    },
    Test {
        name: "sched_set_priority_errors",
        run: sched::set_priority_errors,
    },
    Test {
        name: "sched_preemption_on_wake",
        run: sched::preemption_on_wake,
    },
    Test {
        name: "sched_strict_priority",
        run: sched::strict_priority,
    },
    Test {
        name: "sched_call_suspended_receiver",
        run: sched::call_suspended_receiver,
    },
    Test {
        name: "sched_ipc_wakes_respect_priority",
        run: sched::ipc_wakes_respect_priority,
    },
    Test {
        name: "sched_suspend_resume",
        run: sched::suspend_resume,
    },
    Test {
        name: "sched_suspend_blocked_and_self",
        run: sched::suspend_blocked_and_self,
    },
    Test {
        name: "sched_regs_read_write",
        run: sched::regs_read_write,
    },
    Test {
        name: "sched_regs_errors",
        run: sched::regs_errors,
    },
    Test {
        name: "vm_lazy_zero_fill",
        run: vm::lazy_zero_fill,
    },
    Test {
        name: "vm_map_errors",
        run: vm::map_errors,
    },
    Test {
        name: "vm_unmap_protect_split",
        run: vm::unmap_protect_split,
    },
    Test {
        name: "vm_cow_clone",
        run: vm::cow_clone,
    },
    Test {
        name: "vm_shared_clone",
        run: vm::shared_clone,
    },
    Test {
        name: "vm_resize",
        run: vm::resize,
    },
    Test {
        name: "vm_device_memory",
        run: vm::device_memory,
    },
    Test {
        name: "vm_exec_switch",
        run: vm::exec_switch,
    },
    Test {
        name: "vm_exec_tls",
        run: vm::exec_tls,
    },
    Test {
        name: "vm_fault_endpoint",
        run: vm_faults::fault_endpoint,
    },
    Test {
        name: "vm_budget_runs_out",
        run: vm_faults::budget_runs_out,
    },
    Test {
        name: "vm_budget_bundle_destroyed",
        run: vm_faults::budget_bundle_destroyed,
    },
    Test {
        name: "vm_lend_head_tail",
        run: vm_faults::lend_head_tail,
    },
    Test {
        name: "vm_usercopy_lazy_and_cow",
        run: vm::usercopy_lazy_and_cow,
    },
    Test {
        name: "vm_clone_out_of_memory_keeps_nothing",
        run: vm_faults::clone_out_of_memory_keeps_nothing,
    },
    Test {
        name: "aspace_populate_ok",
        run: populate::ok,
    },
    Test {
        name: "aspace_populate_device_memory",
        run: populate::device_memory_costs_nothing,
    },
    Test {
        name: "aspace_populate_max_pages",
        run: populate::max_pages,
    },
    Test {
        name: "aspace_populate_errors",
        run: populate::errors,
    },
    Test {
        name: "aspace_populate_out_of_memory",
        run: populate::out_of_memory,
    },
    Test {
        name: "timeout_recv",
        run: timeouts::recv,
    },
    Test {
        name: "timeout_wait",
        run: timeouts::wait,
    },
    Test {
        name: "timeout_send",
        run: timeouts::send,
    },
    Test {
        name: "timeout_call",
        run: timeouts::call,
    },
    Test {
        name: "timeout_reply_recv",
        run: timeouts::reply_recv,
    },
    Test {
        name: "timeout_order",
        run: timeouts::order,
    },
    Test {
        name: "timeout_waiter_gone",
        run: timeouts::waiter_gone,
    },
    Test {
        name: "timeout_suspended",
        run: timeouts::suspended,
    },
    Test {
        name: "timeout_fast_path_declines",
        run: timeouts::fast_path_declines,
    },
    Test {
        name: "futex_wait_wake",
        run: futex::wait_wake,
    },
    Test {
        name: "futex_value_mismatch",
        run: futex::value_mismatch,
    },
    Test {
        name: "futex_wait_timeout",
        run: futex::wait_timeout,
    },
    Test {
        name: "futex_errors",
        run: futex::wait_errors,
    },
    Test {
        name: "futex_wake_counts",
        run: futex::wake_errors_and_counts,
    },
    Test {
        name: "futex_priority_order",
        run: futex::priority_order,
    },
    Test {
        name: "futex_requeue",
        run: futex::requeue,
    },
    Test {
        name: "futex_cross_process",
        run: futex::cross_process,
    },
    Test {
        name: "futex_cow_separation",
        run: futex::cow_separation,
    },
    Test {
        name: "futex_memory_gone",
        run: futex::memory_gone,
    },
    Test {
        name: "futex_storm",
        run: futex::storm,
    },
    Test {
        name: "sysfuzz_seed_1",
        run: crate::sysfuzz::seed_1,
    },
    Test {
        name: "sysfuzz_seed_2",
        run: crate::sysfuzz::seed_2,
    },
    Test {
        name: "sysfuzz_seed_3",
        run: crate::sysfuzz::seed_3,
    },
    Test {
        name: "sysfuzz_seed_2024",
        run: crate::sysfuzz::seed_4,
    },
    Test {
        name: "sysfuzz_seed_7_long",
        run: crate::sysfuzz::seed_long,
    },
    Test {
        name: "rt_handles_own_slots",
        run: runtime::handles_own_slots,
    },
    Test {
        name: "rt_message_every_size",
        run: runtime::message_every_size,
    },
    Test {
        name: "rt_sys_ipc_names",
        run: runtime::sys_ipc_names,
    },
    Test {
        name: "rt_deadlines",
        run: runtime::deadlines,
    },
    Test {
        name: "rt_threads_with_closures",
        run: runtime::threads_with_closures,
    },
    Test {
        name: "rt_threads_detached",
        run: runtime::threads_detached,
    },
    Test {
        name: "rt_thread_local_values",
        run: runtime::thread_local_values,
    },
    Test {
        name: "rt_heap_grows",
        run: runtime::heap_grows,
    },
    Test {
        name: "rt_mutex_contended",
        run: runtime::mutex_contended,
    },
    Test {
        name: "rt_condvar_queue",
        run: runtime::condvar_queue,
    },
    Test {
        name: "rt_once_races",
        run: runtime::once_races,
    },
    Test {
        name: "rt_sleep_and_time",
        run: runtime::sleep_and_time,
    },
    Test {
        name: "spawn_tiny_exits",
        run: spawn::tiny_exits,
    },
    Test {
        name: "spawn_args_and_env",
        run: spawn::args_and_env,
    },
    Test {
        name: "spawn_panic_ends_process",
        run: spawn::panic_ends_process,
    },
    Test {
        name: "spawn_threads_in_child",
        run: spawn::threads_in_child,
    },
    Test {
        name: "spawn_heap_exhaustion",
        run: spawn::heap_exhaustion,
    },
    Test {
        name: "spawn_c_program",
        run: spawn::c_program,
    },
    Test {
        name: "spawn_every_program_loads",
        run: spawn::every_program_loads,
    },
    Test {
        name: "spawn_hostile_files",
        run: spawn::hostile_files,
    },
    Test {
        name: "spawn_frames_come_back",
        run: spawn::frames_come_back,
    },
    Test {
        name: "protocol_every_operation",
        run: protocol::every_operation,
    },
    Test {
        name: "protocol_malformed_requests",
        run: protocol::malformed_requests,
    },
    Test {
        name: "protocol_server_killed_mid_call",
        run: protocol::server_killed_mid_call,
    },
];

/// Thread body: runs test number `index`; exit code 0 = pass.
pub fn run_one(index: u64) -> u64 {
    let Some(test) = ALL.get(index as usize) else {
        return 2;
    };
    match (test.run)() {
        Ok(()) => 0,
        Err(f) => {
            rt::println!("    check failed at line {}: {}", f.line, f.what);
            1
        }
    }
}

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
