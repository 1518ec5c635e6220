//! SYSCALL entry and the two ways back to user mode (SYSRET and IRETQ).
//!
//! `syscall_entry` saves the user registers straight into the running
//! thread's [`UserContext`] in the same layout the interrupt path uses, with
//! `vector` = [`SYSCALL_VECTOR`], then calls, on the per-CPU kernel stack,
//! the entry its table names for the number: `syscall_from_user` (the
//! general path) for most, and for the syscalls with a fast path (`Null`,
//! `Call`, `ReplyRecv`, `Signal`, `Wait`, `ThreadYield`) `null_from_user`,
//! `call_from_user` and so on. Interrupts are off throughout (FMASK
//! clears IF).
//!
//! Returning: [`resume_user`] restores a context with SYSRET when it was
//! saved by `syscall` and its `rip` is a canonical user address, and with
//! IRETQ otherwise. SYSRET with a non-canonical `rcx` faults in ring 0 on
//! Intel CPUs with the user's `rsp` already loaded; the check here, and
//! never mapping the last user page (`abi::layout::USER_END`), rule it out.

use abi::syscall::Syscall;
use x86_64::VirtAddr;
use x86_64::registers::model_specific::{Efer, EferFlags, LStar, SFMask};
use x86_64::registers::rflags::RFlags;

use super::context::{
    PERCPU_CONTEXT_TOP, PERCPU_KERNEL_STACK_TOP, PERCPU_USER_RSP, SYSCALL_VECTOR, UserContext,
};
use super::gdt::{USER_CODE_SELECTOR, USER_DATA_SELECTOR};

core::arch::global_asm!(
    r#"
    .section .text.syscall_entry, "ax"
    .global syscall_entry
    .balign 16
syscall_entry:
    swapgs
    mov gs:[{user_rsp}], rsp
    mov rsp, gs:[{context_top}]
    push {user_ss}
    push qword ptr gs:[{user_rsp}]
    push r11
    push {user_cs}
    push rcx
    push 0
    push {syscall_vector}
    "#,
    push_gprs!(),
    r#"
    mov rdi, rsp
    mov rsp, gs:[{kstack}]
    xor ebp, ebp
    /* One indirect call on the number still in rax: the syscalls with a
       fast path go straight to it, every other number below the table's
       end to the general path; numbers past it are unknown (the general
       path reports that). */
    cmp rax, {limit}
    jae 2f
    call qword ptr [8 * rax + syscall_table]
    ud2
2:  call syscall_from_user
    ud2

    .pushsection .rodata.syscall_table, "a"
    .balign 8
syscall_table:
    .set syscall_number, 0
    .rept {limit}
    .if syscall_number == {null}
    .quad null_from_user
    .elseif syscall_number == {call}
    .quad call_from_user
    .elseif syscall_number == {reply_recv}
    .quad reply_recv_from_user
    .elseif syscall_number == {signal}
    .quad signal_from_user
    .elseif syscall_number == {wait}
    .quad wait_from_user
    .elseif syscall_number == {thread_yield}
    .quad yield_from_user
    .elseif syscall_number == {recv}
    .quad recv_from_user
    .elseif syscall_number == {reply_save}
    .quad reply_save_from_user
    .elseif syscall_number == {reply_with}
    .quad reply_with_from_user
    .elseif syscall_number == {reply_save_recv}
    .quad reply_save_recv_from_user
    .else
    .quad syscall_from_user
    .endif
    .set syscall_number, syscall_number + 1
    .endr
    .popsection

    .global resume_sysret
resume_sysret:
    /* rdi: the UserContext to restore. */
    mov rsp, rdi
    "#,
    pop_gprs!(),
    r#"
    mov rcx, [rsp + 16]
    mov r11, [rsp + 32]
    mov rsp, [rsp + 40]
    swapgs
    sysretq

    .global resume_iret
resume_iret:
    mov rsp, rdi
    "#,
    pop_gprs!(),
    r#"
    add rsp, 16
    swapgs
    iretq
    "#,
    user_rsp = const PERCPU_USER_RSP,
    context_top = const PERCPU_CONTEXT_TOP,
    kstack = const PERCPU_KERNEL_STACK_TOP,
    user_ss = const USER_DATA_SELECTOR as u64,
    user_cs = const USER_CODE_SELECTOR as u64,
    syscall_vector = const SYSCALL_VECTOR,
    limit = const Syscall::NUMBER_LIMIT,
    null = const Syscall::Null as u64,
    call = const Syscall::Call as u64,
    reply_recv = const Syscall::ReplyRecv as u64,
    signal = const Syscall::Signal as u64,
    wait = const Syscall::Wait as u64,
    thread_yield = const Syscall::ThreadYield as u64,
    recv = const Syscall::Recv as u64,
    reply_save = const Syscall::ReplySave as u64,
    reply_with = const Syscall::ReplyWith as u64,
    reply_save_recv = const Syscall::ReplySaveRecv as u64,
);

unsafe extern "C" {
    fn syscall_entry();
    fn resume_sysret(context: *const UserContext) -> !;
    fn resume_iret(context: *const UserContext) -> !;
}

/// Enables SYSCALL and points it at `syscall_entry`. Boot CPU, once, after
/// `gdt::init` (which programs STAR).
pub fn init() {
    LStar::write(VirtAddr::new(syscall_entry as *const () as u64));
    // Cleared on entry: interrupts, direction, trap, alignment-check (SMAP), nested task.
    SFMask::write(
        RFlags::INTERRUPT_FLAG
            | RFlags::DIRECTION_FLAG
            | RFlags::TRAP_FLAG
            | RFlags::ALIGNMENT_CHECK
            | RFlags::NESTED_TASK,
    );
    // SAFETY: setting EFER.SCE only enables the SYSCALL instruction, whose
    // target (LSTAR) and segments (STAR) are already programmed.
    unsafe { Efer::update(|flags| flags.insert(EferFlags::SYSTEM_CALL_EXTENSIONS)) };
}

/// Returns to user mode in `context`, which must already be the running
/// thread's (per-CPU `context_top`, TSS `rsp0`, CR3 and FPU state set by
/// `switch::resume`).
#[inline(always)]
pub(super) fn resume_user(context: &UserContext) -> ! {
    let by_syscall = context.vector == SYSCALL_VECTOR;
    let canonical = abi::layout::is_user_canonical(context.rip);
    // SAFETY: `context` is a complete user context whose selectors and
    // RFLAGS come from `UserContext::new_user` or from the CPU's own save
    // on entry (no syscall lets user code set them yet); the asm reloads
    // every register from it and leaves ring 0 without touching the kernel
    // stack again, which is what the stackless design expects. SYSRET is
    // used only for a canonical user `rip`.
    unsafe {
        if by_syscall && canonical {
            resume_sysret(context)
        } else {
            resume_iret(context)
        }
    }
}
