//! The PVH entry: from QEMU's 32-bit protected mode to 64-bit Rust.
//!
//! QEMU loads the kernel ELF by its physical addresses, finds the
//! `XEN_ELFNOTE_PHYS32_ENTRY` note and jumps to `pvh_entry32` with paging
//! off, flat 32-bit segments, interrupts off and `ebx` holding the physical
//! address of the `hvm_start_info` (see `pvh.rs`).
//!
//! The code here runs at its physical address (section `.boot`). It builds
//! temporary page tables that map the first 4 GiB twice (identity and the
//! direct map at [`DIRECT_MAP_BASE`](crate::config::DIRECT_MAP_BASE)) and the
//! first 1 GiB once more in the kernel image's top 2 GiB window, turns on PAE, long mode and NX (SDM Vol. 3A
//! §10.8.5, "Initializing IA-32e Mode"), and calls `kmain` on the boot stack.
//! `kmain` then builds the real page tables and drops these.

use crate::config::KERNEL_STACK_BYTES;

/// The boot CPU's kernel stack (also its stack for syscalls and traps).
#[repr(C, align(4096))]
pub struct Stack<const N: usize>(pub [u8; N]);

/// The one kernel stack of the boot CPU.
#[unsafe(no_mangle)]
pub static mut BOOT_STACK: Stack<KERNEL_STACK_BYTES> = Stack([0; KERNEL_STACK_BYTES]);

core::arch::global_asm!(
    r#"
    .section .note.Xen, "a", @note
    .balign 4
    .long 4            /* name size: "Xen\0" */
    .long 4            /* descriptor size */
    .long 18           /* XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .balign 4
    .long pvh_entry32
    .balign 4

    .section .boot.bss, "aw", @nobits
    .balign 4096
boot_pml4:      .skip 4096
boot_pdpt_low:  .skip 4096
boot_pdpt_high: .skip 4096
boot_pd:        .skip 4096 * 4     /* 2048 2-MiB pages: the first 4 GiB */

    .section .boot.data, "aw"
    .balign 16
boot_gdt:
    .quad 0
    .quad 0x00af9a000000ffff       /* 0x08: 64-bit ring-0 code */
    .quad 0x00cf92000000ffff       /* 0x10: ring-0 data */
boot_gdt_ptr:
    .word boot_gdt_ptr - boot_gdt - 1
    .long boot_gdt
    .balign 8
    .global boot_entry_tsc
boot_entry_tsc:
    .quad 0
boot_start_info:
    .quad 0

    .section .boot.text, "ax"
    .code32
    .global pvh_entry32
pvh_entry32:
    cli
    cld
    mov dword ptr [boot_start_info], ebx
    /* The first thing measured: instructions from here to user mode. */
    rdtsc
    mov dword ptr [boot_entry_tsc], eax
    mov dword ptr [boot_entry_tsc + 4], edx

    /* PD entries: 2 MiB pages, present + writable + large. */
    xor ecx, ecx
1:
    mov eax, ecx
    shl eax, 21
    or eax, 0x83
    mov dword ptr [boot_pd + ecx * 8], eax
    mov dword ptr [boot_pd + ecx * 8 + 4], 0
    inc ecx
    cmp ecx, 2048
    jb 1b

    /* PDPT (low): four PDs cover 0..4 GiB. */
    mov eax, offset boot_pd + 3
    mov dword ptr [boot_pdpt_low], eax
    add eax, 4096
    mov dword ptr [boot_pdpt_low + 8], eax
    add eax, 4096
    mov dword ptr [boot_pdpt_low + 16], eax
    add eax, 4096
    mov dword ptr [boot_pdpt_low + 24], eax

    /* PDPT (high): slot 510 = 0xffffffff80000000 -> physical 0..1 GiB. */
    mov eax, offset boot_pd + 3
    mov dword ptr [boot_pdpt_high + 510 * 8], eax

    /* PML4: identity (0), direct map (256), kernel image (511). */
    mov eax, offset boot_pdpt_low + 3
    mov dword ptr [boot_pml4], eax
    mov dword ptr [boot_pml4 + 256 * 8], eax
    mov eax, offset boot_pdpt_high + 3
    mov dword ptr [boot_pml4 + 511 * 8], eax

    /* CR4.PAE, then CR3. */
    mov eax, cr4
    or eax, 1 << 5
    mov cr4, eax
    mov eax, offset boot_pml4
    mov cr3, eax

    /* EFER: long mode enable, and no-execute enable when CPUID has NX. */
    mov eax, 0x80000001
    cpuid
    mov esi, 1 << 8
    test edx, 1 << 20
    jz 2f
    or esi, 1 << 11
2:
    mov ecx, 0xc0000080
    rdmsr
    or eax, esi
    wrmsr

    /* CR0: paging, write-protect, protected mode. */
    mov eax, cr0
    or eax, 0x80010001
    mov cr0, eax

    lgdt [boot_gdt_ptr]
    mov eax, offset boot_entry64
    push 0x08
    push eax
    retf

    .code64
boot_entry64:
    mov ax, 0x10
    mov ds, ax
    mov es, ax
    mov ss, ax
    xor eax, eax
    mov fs, ax
    mov gs, ax
    movabs rax, offset boot_high64
    jmp rax

    .section .text.boot_high64, "ax"
boot_high64:
    lea rsp, [rip + BOOT_STACK + {stack_bytes}]
    mov edi, dword ptr [boot_start_info]
    mov rsi, qword ptr [boot_entry_tsc]
    xor ebp, ebp
    call kmain
    ud2
    "#,
    stack_bytes = const KERNEL_STACK_BYTES,
);
