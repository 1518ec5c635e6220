//! The shell rows, timed as issue 16 and `../shared/BENCH-ANCHORS.md` say
//! Linux was timed (busybox `sh`):
//!
//! - `shell_true`: the shell running an external `true` (`/bin/true`, the
//!   coreutils program, not the built-in), per command: `sh -c` with ten
//!   of them minus `sh -c :`, divided by ten;
//! - `shell_pipeline`: `sh -c 'cat FILE | wc -l'` on a 1 MiB ramfs file
//!   of 64-byte lines, from spawning the shell to its exit.

use files::File;
use process::{Command, End, Stdio};

use crate::bench::{measure_after, report};

/// Samples of each row (each sample is whole shells).
const SAMPLES: usize = 10;

/// The shell rows, or a line saying why they cannot run.
pub fn rows(unit: &str, samples: &mut [u64], overhead: u64) {
    if shell_true(unit, &mut samples[..SAMPLES], overhead).is_none() {
        rt::println!("bench: shell_true could not run");
    }
    if shell_pipeline(unit, &mut samples[..SAMPLES], overhead).is_none() {
        rt::println!("bench: shell_pipeline could not run");
    }
}

/// Runs `sh -c SCRIPT` to its end with no streams; whether it exited 0.
fn run(script: &str) -> bool {
    Command::new("/bin/sh")
        .args(&["sh", "-c", script])
        .stdin(Stdio::Null)
        .stdout(Stdio::Null)
        .stderr(Stdio::Null)
        .budget(8192)
        .spawn()
        .and_then(|child| child.wait())
        == Ok(End::Exited(0))
}

fn shell_true(unit: &str, samples: &mut [u64], overhead: u64) -> Option<()> {
    let mut ok = true;
    let mut empty = [0u64; SAMPLES];
    measure_after(1, &mut empty, overhead, || ok &= run(":"));
    let ten = "/bin/true; /bin/true; /bin/true; /bin/true; /bin/true; /bin/true; /bin/true; /bin/true; /bin/true; /bin/true";
    measure_after(1, samples, overhead, || ok &= run(ten));
    ok.then_some(())?;
    empty.sort_unstable();
    let base = empty[SAMPLES / 2];
    for s in samples.iter_mut() {
        *s = s.saturating_sub(base) / 10;
    }
    report("shell_true", unit, samples);
    Some(())
}

fn shell_pipeline(unit: &str, samples: &mut [u64], overhead: u64) -> Option<()> {
    const PATH: &str = "/tmp/bench-pipeline.txt";
    let mut file = File::create(PATH).ok()?;
    let mut line = [b'x'; 64];
    line[63] = b'\n';
    let block: alloc::vec::Vec<u8> = line.iter().copied().cycle().take(64 * 1024).collect();
    for _ in 0..16 {
        file.write_all(&block).ok()?;
    }
    drop(file);
    let mut ok = true;
    measure_after(1, samples, overhead, || {
        ok &= run("cat /tmp/bench-pipeline.txt | wc -l");
    });
    let _ = files::remove_file(PATH);
    ok.then_some(())?;
    report("shell_pipeline", unit, samples);
    Some(())
}
