//! The initial stack: written, then decoded back word by word as the
//! program's startup code would read it.

use abi::layout::{PAGE_BYTES, STACK_TOP};
use elfload::{
    AT_ENTRY, AT_NULL, AT_PAGESZ, AT_PHDR, AT_PHENT, AT_PHNUM, AT_RANDOM, AuxEntry, Image,
    InitialStack, SetupError,
};

use crate::builder::Elf;
use crate::errors::image;

/// A Mica-specific auxiliary type, as the runtime would add.
const AT_MICA_STARTUP: u64 = 0x4d49_0001;

/// What a program finds on its stack.
#[derive(Debug, PartialEq, Eq)]
struct Decoded {
    args: Vec<Vec<u8>>,
    env: Vec<Vec<u8>>,
    aux: Vec<(u64, u64)>,
    random: [u8; 16],
}

/// Reads the stack in `buffer` (ending at `top`) from `rsp` the way the
/// psABI describes it, checking that every pointer stays inside the
/// written part.
fn decode(buffer: &[u8], top: u64, rsp: u64) -> Decoded {
    let bottom = top - buffer.len() as u64;
    let byte = |addr: u64| {
        assert!(
            addr >= rsp && addr < top,
            "pointer {addr:#x} outside the stack"
        );
        buffer[(addr - bottom) as usize]
    };
    let word = |addr: u64| u64::from_le_bytes(std::array::from_fn(|i| byte(addr + i as u64)));
    let string = |mut addr: u64| {
        let mut out = Vec::new();
        while byte(addr) != 0 {
            out.push(byte(addr));
            addr += 1;
        }
        out
    };
    let mut cursor = rsp;
    let mut next = || {
        let value = word(cursor);
        cursor += 8;
        value
    };
    let argc = next();
    let args = (0..argc).map(|_| string(next())).collect();
    assert_eq!(next(), 0, "argv ends with NULL");
    let mut env = Vec::new();
    loop {
        match next() {
            0 => break,
            pointer => env.push(string(pointer)),
        }
    }
    let mut aux = Vec::new();
    loop {
        let kind = next();
        let value = next();
        aux.push((kind, value));
        if kind == AT_NULL {
            break;
        }
    }
    let random_addr = aux
        .iter()
        .find(|(kind, _)| *kind == AT_RANDOM)
        .expect("AT_RANDOM")
        .1;
    let random = std::array::from_fn(|i| byte(random_addr + i as u64));
    Decoded {
        args,
        env,
        aux,
        random,
    }
}

/// 16 recognizable random bytes.
const RANDOM: [u8; 16] = *b"0123456789abcdef";

#[test]
fn layout_decodes_back() {
    let image = image(&Elf::exec());
    let args: [&[u8]; 3] = [b"/bin/echo", b"hello", b""];
    let env: [&[u8]; 2] = [b"PATH=/bin", b"HOME=/"];
    let extra = [AuxEntry {
        kind: AT_MICA_STARTUP,
        value: 0x1234_5000,
    }];
    let stack = InitialStack {
        args: &args,
        env: &env,
        random: RANDOM,
        extra_aux: &extra,
    };
    let mut buffer = vec![0xaau8; 2 * PAGE_BYTES as usize];
    let rsp = stack.write(&image, &mut buffer, STACK_TOP).unwrap();
    assert_eq!(rsp % 16, 0, "rsp is 16-byte aligned at entry");
    let decoded = decode(&buffer, STACK_TOP, rsp);
    assert_eq!(decoded.args, args.map(<[u8]>::to_vec));
    assert_eq!(decoded.env, env.map(<[u8]>::to_vec));
    assert_eq!(decoded.random, RANDOM);
    let random_addr = STACK_TOP - 16;
    assert_eq!(
        decoded.aux,
        [
            (AT_PHDR, 0x40_0040),
            (AT_PHENT, 56),
            (AT_PHNUM, 4),
            (AT_PAGESZ, PAGE_BYTES),
            (AT_ENTRY, 0x40_1010),
            (AT_RANDOM, random_addr),
            (AT_MICA_STARTUP, 0x1234_5000),
            (AT_NULL, 0),
        ]
    );
    // Below rsp nothing is touched; from rsp up, nothing old shows (the
    // same as written over zeros).
    let rsp_index = (rsp - (STACK_TOP - buffer.len() as u64)) as usize;
    assert!(buffer[..rsp_index].iter().all(|&byte| byte == 0xaa));
    let mut zeroed = vec![0u8; buffer.len()];
    assert_eq!(stack.write(&image, &mut zeroed, STACK_TOP), Ok(rsp));
    assert_eq!(buffer[rsp_index..], zeroed[rsp_index..]);
}

#[test]
fn empty_arguments_and_no_phdr() {
    let mut elf = Elf::exec();
    elf.phdrs.remove(0);
    let image = image(&elf);
    assert_eq!(image.phdr(), None);
    let stack = InitialStack {
        random: RANDOM,
        ..InitialStack::default()
    };
    let mut buffer = vec![0u8; 512];
    let top = 0x10_0000;
    let rsp = stack.write(&image, &mut buffer, top).unwrap();
    let decoded = decode(&buffer, top, rsp);
    assert!(decoded.args.is_empty() && decoded.env.is_empty());
    assert_eq!(decoded.aux.first().map(|aux| aux.0), Some(AT_PHENT));
    assert_eq!(decoded.aux.len(), 6);
    // argc, two NULLs, six aux pairs, 16 random bytes, rounded to 16.
    assert_eq!(top - rsp, (1 + 2 + 12) * 8 + 16 + 8);
}

#[test]
fn unaligned_top_still_gives_an_aligned_rsp() {
    let image = image(&Elf::exec());
    let args: [&[u8]; 1] = [b"x"];
    for top in STACK_TOP - 15..=STACK_TOP {
        let stack = InitialStack {
            args: &args,
            random: RANDOM,
            ..InitialStack::default()
        };
        let mut buffer = vec![0u8; 400];
        let rsp = stack.write(&image, &mut buffer, top).unwrap();
        assert_eq!(rsp % 16, 0);
        assert_eq!(decode(&buffer, top, rsp).args, [b"x".to_vec()]);
    }
}

#[test]
fn exact_fit_and_one_byte_short() {
    let image = image(&Elf::exec());
    let long = vec![b'a'; 3000];
    let args: [&[u8]; 2] = [b"prog", &long];
    let env: [&[u8]; 1] = [b"A=B"];
    let stack = InitialStack {
        args: &args,
        env: &env,
        random: RANDOM,
        extra_aux: &[],
    };
    let mut big = vec![0u8; 8192];
    let rsp = stack.write(&image, &mut big, STACK_TOP).unwrap();
    let needed = (STACK_TOP - rsp) as usize;
    let mut exact = vec![0u8; needed];
    assert_eq!(stack.write(&image, &mut exact, STACK_TOP), Ok(rsp));
    assert_eq!(exact[..], big[8192 - needed..]);
    let mut short = vec![0u8; needed - 1];
    assert_eq!(
        stack.write(&image, &mut short, STACK_TOP),
        Err(SetupError::BufferTooSmall)
    );
    assert_eq!(
        stack.write(&image, &mut [], STACK_TOP),
        Err(SetupError::BufferTooSmall)
    );
}

#[test]
fn nul_in_a_string() {
    let image = image(&Elf::exec());
    let bad: [&[u8]; 1] = [b"a\0b"];
    let mut buffer = vec![0u8; 4096];
    let in_args = InitialStack {
        args: &bad,
        ..InitialStack::default()
    };
    assert_eq!(
        in_args.write(&image, &mut buffer, STACK_TOP),
        Err(SetupError::NulInString)
    );
    let in_env = InitialStack {
        env: &bad,
        ..InitialStack::default()
    };
    assert_eq!(
        in_env.write(&image, &mut buffer, STACK_TOP),
        Err(SetupError::NulInString)
    );
}

#[test]
fn reserved_aux_types() {
    let image = image(&Elf::exec());
    let mut buffer = vec![0u8; 4096];
    for kind in [
        AT_NULL, AT_PHDR, AT_PHENT, AT_PHNUM, AT_PAGESZ, AT_ENTRY, AT_RANDOM,
    ] {
        let extra = [AuxEntry { kind, value: 1 }];
        let stack = InitialStack {
            extra_aux: &extra,
            ..InitialStack::default()
        };
        assert_eq!(
            stack.write(&image, &mut buffer, STACK_TOP),
            Err(SetupError::ReservedAuxType)
        );
    }
}

#[test]
fn stack_below_address_zero() {
    let image: Image = image(&Elf::exec());
    let mut buffer = vec![0u8; 4096];
    let stack = InitialStack::default();
    assert_eq!(
        stack.write(&image, &mut buffer, 4095),
        Err(SetupError::BadAddress)
    );
    // At the very bottom of the address space it still fits.
    let rsp = stack.write(&image, &mut buffer, 4096).unwrap();
    assert!(rsp < 4096);
}
