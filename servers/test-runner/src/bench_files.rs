//! The file rows: the same operations `bench/linux/bench.c` times on
//! Linux's tmpfs, here on ramfs through the `files` crate, user code of
//! both sides included (`docs/files.md`).
//!
//! - `file_open_close`: open `/tmp/f` for reading, then close it;
//! - `file_read_4k`: 4 KiB at offset 0 of the open file with one
//!   `read_at` into a page-aligned buffer, as bench.c's one `pread`: a
//!   `read_bytes` call, whose reply carries the file's page as its bytes,
//!   copied once by the kernel into the buffer (docs/ipc.md, "Bytes");
//! - `file_read_4k_msg`: the same by messages, in pieces of 504 bytes:
//!   nine calls;
//! - `file_read_4k_ring`: the same through `File::read_bulk_at` (the ring
//!   asked for by name);
//! - `file_stat`: the attributes of `/tmp/f`;
//! - `file_create_unlink`: create `/tmp/g` exclusively, close it, remove it.

use files::{File, OpenFlags};
use protocols::file::READ_MAX_BYTES;

use crate::bench::{measure, report};

/// Samples of each row.
const FILE_SAMPLES: usize = 1000;
/// The ring's data area for `file_read_4k_ring`: 16 submissions of 4 KiB.
const RING_DATA_BYTES: u32 = 64 << 10;

/// A page-aligned page of bytes.
#[repr(C, align(4096))]
struct Page([u8; 4096]);

/// Reads `buf.len()` bytes at `offset`, in as many calls as it takes.
fn read_full_at(file: &File, offset: u64, buf: &mut [u8]) -> usize {
    let mut done = 0;
    while done < buf.len() {
        match file.read_at(offset + done as u64, &mut buf[done..]) {
            Ok(0) | Err(_) => break,
            Ok(n) => done += n,
        }
    }
    done
}

/// The file rows, or a line saying why they cannot run.
pub fn rows(unit: &str, samples: &mut [u64], overhead: u64) {
    let samples = &mut samples[..FILE_SAMPLES];
    let data = [0x42u8; 8192];
    let made = File::create("/tmp/f").and_then(|mut f| f.write_all(&data));
    if let Err(error) = made {
        rt::println!("bench: cannot make /tmp/f: {error}");
        return;
    }
    measure(samples, overhead, || {
        let file = File::open_read("/tmp/f");
        core::hint::black_box(file.is_ok());
    });
    report("file_open_close", unit, samples);

    let Ok(file) = File::open_read("/tmp/f") else {
        rt::println!("bench: cannot open /tmp/f");
        return;
    };
    // Page-aligned, as Linux's `pread` target in bench.c.
    let mut page = Page([0; 4096]);
    let buf = &mut page.0;
    let mut read_row = |name: &str, read: &mut dyn FnMut(&mut [u8]) -> usize| {
        buf.fill(0);
        measure(samples, overhead, || {
            core::hint::black_box(read(buf));
        });
        if *buf == [0x42; 4096] {
            report(name, unit, samples);
        } else {
            rt::println!("bench: {name} read the wrong bytes");
        }
    };
    // One call, as bench.c's one `pread` (the row fails on a short read).
    read_row("file_read_4k", &mut |buf| file.read_at(0, buf).unwrap_or(0));
    read_row("file_read_4k_msg", &mut |buf| {
        let mut done = 0;
        for piece in buf.chunks_mut(READ_MAX_BYTES) {
            done += read_full_at(&file, done as u64, piece);
        }
        done
    });
    if let Err(error) = file.attach_ring(RING_DATA_BYTES) {
        rt::println!("bench: cannot attach a ring to /tmp/f: {error}");
        return;
    }
    read_row("file_read_4k_ring", &mut |buf| {
        file.read_bulk_at(0, buf).unwrap_or(0)
    });
    drop(file);

    measure(samples, overhead, || {
        core::hint::black_box(files::metadata("/tmp/f").is_ok());
    });
    report("file_stat", unit, samples);

    let create = OpenFlags::WRITE | OpenFlags::CREATE | OpenFlags::EXCLUSIVE;
    measure(samples, overhead, || {
        let made = File::open("/tmp/g", create);
        drop(made);
        core::hint::black_box(files::remove_file("/tmp/g").is_ok());
    });
    report("file_create_unlink", unit, samples);
    let _ = files::remove_file("/tmp/f");
}
