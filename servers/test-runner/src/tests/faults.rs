//! User faults: each bad act runs in a thread of its own, which the kernel
//! kills and reports; the kernel and this suite carry on.

use crate::raw as sys;
use crate::raw_thread::spawn;
use abi::layout::BOOT_INFO_ADDR;
use abi::syscall::{ThreadStatus, exit_kind};

use super::TestResult;
use super::syscalls::fail;
use crate::{cpu, ensure, ensure_eq};

const DIVIDE: u64 = 0;
const BREAKPOINT: u64 = 3;
const INVALID_OPCODE: u64 = 6;
const STACK_SEGMENT: u64 = 12;
const GENERAL_PROTECTION: u64 = 13;
const PAGE_FAULT: u64 = 14;

/// Page-fault error code bits.
const PF_PRESENT: u64 = 1;
const PF_WRITE: u64 = 2;
const PF_USER: u64 = 4;
const PF_FETCH: u64 = 16;

fn run(f: fn(u64) -> u64, arg: u64) -> Result<ThreadStatus, super::Failure> {
    spawn(f, arg).and_then(|h| h.join()).map_err(|_| fail())
}

fn killed(status: &ThreadStatus, vector: u64) -> bool {
    status.kind == exit_kind::FAULTED && status.code == vector
}

pub fn unmapped_read() -> TestResult {
    let s = run(cpu::read_at, 0x0000_0008_0000_0010)?;
    ensure!(killed(&s, PAGE_FAULT));
    ensure_eq!(s.addr, 0x0000_0008_0000_0010);
    ensure_eq!(s.error_code & (PF_PRESENT | PF_WRITE | PF_USER), PF_USER);
    Ok(())
}

pub fn null_write() -> TestResult {
    let s = run(cpu::write_at, 0)?;
    ensure!(killed(&s, PAGE_FAULT));
    ensure_eq!(s.addr, 0);
    ensure_eq!(s.error_code & (PF_WRITE | PF_USER), PF_WRITE | PF_USER);
    Ok(())
}

pub fn kernel_read() -> TestResult {
    // The direct map of RAM at 1 MiB is mapped (a protection fault); the
    // start of the kernel window may not be (a not-present fault).
    for (addr, present) in [
        (0xffff_8000_0010_0000u64, PF_PRESENT),
        (0xffff_ffff_8000_0000, 0),
    ] {
        let s = run(cpu::read_at, addr)?;
        ensure!(killed(&s, PAGE_FAULT));
        ensure_eq!(s.addr, addr);
        ensure_eq!(
            s.error_code & (PF_PRESENT | PF_WRITE | PF_USER),
            present | PF_USER
        );
    }
    Ok(())
}

pub fn write_read_only() -> TestResult {
    let s = run(cpu::write_at, BOOT_INFO_ADDR)?;
    ensure!(killed(&s, PAGE_FAULT));
    ensure_eq!(
        s.error_code & (PF_PRESENT | PF_WRITE | PF_USER),
        PF_PRESENT | PF_WRITE | PF_USER
    );
    let s = run(cpu::write_at, abi::layout::IMAGE_BASE)?;
    ensure!(killed(&s, PAGE_FAULT));
    Ok(())
}

#[repr(C, align(16))]
struct Code([u8; 16]);
static RET_IN_DATA: Code = Code([0xc3; 16]);

pub fn execute_nx() -> TestResult {
    let addr = RET_IN_DATA.0.as_ptr() as u64;
    let s = run(cpu::jump_to, addr)?;
    if super::boot().cpu_features & abi::boot::cpu::NX == 0 {
        rt::println!("    (no NX on this CPU: data is executable, skipped)");
        return Ok(());
    }
    ensure!(killed(&s, PAGE_FAULT));
    ensure_eq!(s.addr, addr);
    ensure_eq!(s.error_code & PF_FETCH, PF_FETCH);
    Ok(())
}

fn expect(f: fn(u64) -> u64, vector: u64) -> TestResult {
    let s = run(f, 0)?;
    if !killed(&s, vector) {
        rt::println!(
            "    expected vector {vector}, got kind {} code {}",
            s.kind,
            s.code
        );
    }
    ensure!(killed(&s, vector));
    Ok(())
}

pub fn hlt() -> TestResult {
    expect(cpu::hlt, GENERAL_PROTECTION)
}

pub fn cli() -> TestResult {
    expect(cpu::cli, GENERAL_PROTECTION)
}

pub fn mov_cr3() -> TestResult {
    expect(cpu::mov_cr3, GENERAL_PROTECTION)
}

pub fn port_in() -> TestResult {
    expect(cpu::port_in, GENERAL_PROTECTION)
}

pub fn port_out() -> TestResult {
    expect(cpu::port_out, GENERAL_PROTECTION)
}

pub fn divide() -> TestResult {
    expect(cpu::divide, DIVIDE)
}

pub fn int3() -> TestResult {
    expect(cpu::int3, BREAKPOINT)
}

pub fn ud2() -> TestResult {
    expect(cpu::ud2, INVALID_OPCODE)
}

pub fn int80() -> TestResult {
    let s = run(cpu::int80, 0)?;
    ensure!(killed(&s, GENERAL_PROTECTION));
    // Error code: the IDT gate (bit 1) of vector 0x80. CPUs put the vector
    // in bits 3 and up; QEMU's TCG reports the 16-byte gate's offset.
    ensure!(s.error_code == (0x80 << 3) | 2 || s.error_code == (0x80 << 4) | 2);
    Ok(())
}

pub fn jump_non_canonical() -> TestResult {
    let s = run(cpu::jump_to, 0x0000_8000_0000_0000)?;
    ensure!(killed(&s, GENERAL_PROTECTION) || killed(&s, PAGE_FAULT));
    let s = run(cpu::jump_to, 0x1234_0000_0000_0000)?;
    ensure!(killed(&s, GENERAL_PROTECTION));
    Ok(())
}

pub fn jump_kernel() -> TestResult {
    let s = run(cpu::jump_to, 0xffff_ffff_8020_0000)?;
    ensure!(killed(&s, PAGE_FAULT));
    ensure_eq!(s.error_code & (PF_USER | PF_FETCH), PF_USER | PF_FETCH);
    Ok(())
}

pub fn bad_stack() -> TestResult {
    for bad in [
        0u64,
        0x0000_0008_0000_0000,
        0xffff_ffff_8020_1000,
        0x0000_8000_0000_0000,
        BOOT_INFO_ADDR + 64,
    ] {
        let s = run(cpu::push_with_stack, bad)?;
        ensure_eq!(s.kind, exit_kind::FAULTED);
        ensure!([STACK_SEGMENT, GENERAL_PROTECTION, PAGE_FAULT].contains(&s.code));
    }
    Ok(())
}

pub fn sgdt() -> TestResult {
    let s = run(cpu::sgdt, 0)?;
    if super::boot().cpu_features & abi::boot::cpu::UMIP != 0 {
        ensure!(killed(&s, GENERAL_PROTECTION));
    } else {
        rt::println!("    (no UMIP on this CPU: sgdt is allowed, skipped)");
        ensure_eq!(s.kind, exit_kind::EXITED);
    }
    Ok(())
}

pub fn syscall_bad_stack() -> TestResult {
    for bad in [0u64, 0xffff_ffff_8020_0000, 0x0000_8000_0000_0000, u64::MAX] {
        let s = run(cpu::syscall_with_stack, bad)?;
        ensure_eq!(s.kind, exit_kind::EXITED);
        ensure_eq!(s.code, 0);
    }
    Ok(())
}

pub fn still_alive() -> TestResult {
    ensure_eq!(sys::null(), Ok(()));
    let s = run(|x| x * 2, 21)?;
    ensure_eq!(s.code, 42);
    Ok(())
}
