//! The interrupt descriptor table and its 256 entry stubs (SDM Vol. 3A §7.14).
//!
//! Every vector has a 16-byte stub that pushes a zero error code where the
//! CPU pushes none, then the vector number, and jumps to `trap_common`.
//! `trap_common` looks at the saved CS: from ring 3 it finishes saving into
//! the thread's context (the CPU already wrote the hardware frame there
//! through TSS `rsp0`), switches to the kernel stack and calls
//! `trap_from_user`, which never returns. From ring 0 it saves on the
//! current stack, calls `trap_from_kernel` and returns with `iretq`.
//! Vectors that run on an IST stack (NMI, double fault, machine check) go
//! to `trap_fatal` instead: they are never a user's doing.

use core::ptr::addr_of;
use x86_64::instructions::tables::lidt;
use x86_64::structures::DescriptorTablePointer;

use super::context::{PERCPU_KERNEL_STACK_TOP, PERCPU_SMAP};
use super::gdt::{IST_DOUBLE_FAULT, IST_MACHINE_CHECK, IST_NMI, KERNEL_CODE_SELECTOR};

/// Vector of the scheduler tick.
pub const TIMER_VECTOR: u8 = 32;
/// Vector of the local APIC's spurious interrupts.
pub const SPURIOUS_VECTOR: u8 = 0xff;
/// Vector of the breakpoint exception, reachable from ring 3 by `int3`.
const BREAKPOINT_VECTOR: usize = 3;

core::arch::global_asm!(
    r#"
    .section .text.trap_stubs, "ax"
    .balign 16
    .global trap_stubs
trap_stubs:
    .set vec, 0
    .rept 256
    .balign 16
    .if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    push 0
    .endif
    push vec
    .if (vec == 2) || (vec == 8) || (vec == 18)
    jmp trap_fatal_entry
    .else
    jmp trap_common
    .endif
    .set vec, vec + 1
    .endr

    .balign 16
trap_common:
    /* Interrupt gates leave DF as user mode had it; Rust needs it clear. */
    cld
    test qword ptr [rsp + 24], 3
    jz 2f
    /* From ring 3: rsp points into the thread's UserContext. */
    swapgs
    "#,
    push_gprs!(),
    r#"
    cmp qword ptr gs:[{smap}], 0
    je 1f
    clac
1:
    mov rdi, rsp
    mov rsp, gs:[{kstack}]
    xor ebp, ebp
    call trap_from_user
    ud2

2:  /* From ring 0: save on the current stack and come back. */
    "#,
    push_gprs!(),
    r#"
    mov rdi, rsp
    call trap_from_kernel
    "#,
    pop_gprs!(),
    r#"
    add rsp, 16
    iretq

trap_fatal_entry:
    "#,
    push_gprs!(),
    r#"
    mov rdi, rsp
    and rsp, -16
    call trap_fatal
    ud2
    "#,
    smap = const PERCPU_SMAP,
    kstack = const PERCPU_KERNEL_STACK_TOP,
);

unsafe extern "C" {
    /// The first of 256 stubs, 16 bytes apart.
    static trap_stubs: [u8; 256 * 16];
}

/// One 16-byte gate descriptor (SDM Vol. 3A Figure 7-8).
#[repr(C)]
#[derive(Clone, Copy)]
struct Gate {
    offset_low: u16,
    selector: u16,
    ist: u8,
    attributes: u8,
    offset_mid: u16,
    offset_high: u32,
    reserved: u32,
}

/// Present, 64-bit interrupt gate (interrupts stay off in the handler).
const GATE_INTERRUPT: u8 = 0x8e;
/// Descriptor privilege level 3: `int n` from ring 3 is allowed.
const GATE_DPL3: u8 = 0x60;

#[repr(C, align(16))]
struct Idt([Gate; 256]);

/// The IDTR limit: the table's size less one.
const IDT_LIMIT: u16 = (core::mem::size_of::<Idt>() - 1) as u16;

static IDT: spin::Once<Idt> = spin::Once::new();

/// Builds and loads the IDT. Boot CPU, once; other CPUs will load the same table.
pub fn init() {
    let idt = IDT.call_once(|| {
        let base = addr_of!(trap_stubs) as u64;
        let mut gates = [Gate {
            offset_low: 0,
            selector: 0,
            ist: 0,
            attributes: 0,
            offset_mid: 0,
            offset_high: 0,
            reserved: 0,
        }; 256];
        for (vector, gate) in gates.iter_mut().enumerate() {
            // The 256 stubs are 16 bytes apart inside the kernel image.
            let handler = base.wrapping_add((vector as u64) << 4);
            let ist = match vector {
                2 => IST_NMI,
                8 => IST_DOUBLE_FAULT,
                18 => IST_MACHINE_CHECK,
                _ => 0,
            };
            let dpl = if vector == BREAKPOINT_VECTOR {
                GATE_DPL3
            } else {
                0
            };
            *gate = Gate {
                offset_low: handler as u16,
                selector: KERNEL_CODE_SELECTOR,
                ist,
                attributes: GATE_INTERRUPT | dpl,
                offset_mid: (handler >> 16) as u16,
                offset_high: (handler >> 32) as u32,
                reserved: 0,
            };
        }
        Idt(gates)
    });
    let pointer = DescriptorTablePointer {
        limit: IDT_LIMIT,
        base: x86_64::VirtAddr::new(idt as *const Idt as u64),
    };
    // SAFETY: the table is 'static, every gate points at a stub in
    // `trap_stubs` with the kernel code selector, and the IST indexes refer
    // to stacks set in the TSS by `gdt::init`, which runs first.
    unsafe { lidt(&pointer) };
}
