/*
 * Linux side of `cargo xtask bench`.
 *
 * A static program that runs as /init of a tiny initramfs (built by
 * xtask/src/linux.rs) on Debian's kernel in the same QEMU configuration as
 * Mica. It times a fixed set of operations and prints one line per row:
 *
 *     BENCH <name> <unit> <median> <p10> <p90> <iterations>
 *
 * followed by "BENCH-DONE", then powers the VM off. Any failure prints a
 * "BENCH-ERROR ..." line and powers off without "BENCH-DONE", so the host
 * side knows the run is incomplete.
 *
 * Timing: a sample starts with `lfence; rdtsc; lfence` and ends with
 * `rdtscp; lfence` (or `lfence; rdtsc; lfence` when CPUID reports no
 * RDTSCP). The median cost of an empty sample is measured first and
 * subtracted from every sample (clamped at 0). Under QEMU
 * `-icount shift=0,sleep=off` the TSC advances once per guest instruction,
 * so the default unit is "instructions"; pass `unit=cycles` on the kernel
 * command line after `--` (it reaches us as an argument) for KVM runs.
 * One row is not a TSC interval: timer_deadline_error_us reads
 * CLOCK_MONOTONIC and is in microseconds whatever the unit.
 *
 * Row names are Mica's (servers/test-runner/src/bench*.rs): the same name
 * on both sides means the same operation, and xtask/src/report.rs lines
 * them up. A row Linux cannot measure prints a "#" comment saying why and
 * no BENCH line. Some rows (fork_*, pipe_throughput_64k, file_*) have no
 * Mica row yet; the table shows "-" for Mica there.
 *
 * Everything, children included, is pinned to CPU 0, so the two-process
 * rows always measure a same-CPU switch even when the VM has several CPUs.
 * As /init it first mounts a tmpfs on /tmp, where the file rows work.
 *
 * Build: gcc -O2 -Wall -Wextra -static -o bench bench.c
 * It also runs as an ordinary program (it then just exits at the end, skips
 * spawn_exit and fork_exec_wait unless /bin/tinytrue, built from
 * tinytrue.c, exists, and skips the file rows unless /tmp is a tmpfs).
 */
#define _GNU_SOURCE
#include <cpuid.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/futex.h>
#include <linux/magic.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/io.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#define PAGE 4096UL

/* Default sample count and warm-up for every row unless a row says otherwise. */
#define ITERS 10000
#define WARMUP 1000

/* Page-fault rows: one sample per page of a region this large. */
#define FAULT_PAGES 10000

/* Pages touched in the parent before each fork in aspace_clone_1000. */
#define CLONE_PAGES 1000

static uint64_t samples[ITERS];
static uint64_t overhead; /* median empty-sample cost, subtracted from all samples */
static int have_rdtscp;
static const char *unit = "instructions";

/* ---- output and shutdown -------------------------------------------------- */

/* Flush the console and switch the VM off (or just exit when not PID 1). */
static void finish(int status)
{
	fflush(stdout);
	if (getpid() != 1)
		exit(status);
	tcdrain(STDOUT_FILENO);
	sync();
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

/* Report a fatal error in a form the host side shows, then stop. */
static void fail(const char *what)
{
	printf("BENCH-ERROR %s: %s\n", what, strerror(errno));
	finish(1);
}

/* ---- timing ---------------------------------------------------------------- */

static inline uint64_t stamp_begin(void)
{
	uint32_t lo, hi;
	__asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t stamp_end(void)
{
	uint32_t lo, hi, aux;
	if (have_rdtscp)
		__asm__ volatile("rdtscp\n\tlfence" : "=a"(lo), "=d"(hi), "=c"(aux) : : "memory");
	else
		__asm__ volatile("lfence\n\trdtsc\n\tlfence" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

/* One sample: the interval minus the measurement overhead, never negative. */
static inline uint64_t elapsed(uint64_t begin, uint64_t end)
{
	uint64_t d = end - begin;
	return d > overhead ? d - overhead : 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Sort the samples in place and return their median. */
static uint64_t sorted_median(uint64_t *s, size_t n)
{
	qsort(s, n, sizeof *s, cmp_u64);
	return s[n / 2];
}

/* Print one BENCH row in `row_unit` from n samples (sorts them). */
static void report_in(const char *name, const char *row_unit, uint64_t *s, size_t n)
{
	if (n == 0) {
		printf("BENCH-ERROR %s: no samples\n", name);
		finish(1);
	}
	uint64_t median = sorted_median(s, n);
	printf("BENCH %s %s %llu %llu %llu %zu\n", name, row_unit, (unsigned long long)median,
	       (unsigned long long)s[n * 10 / 100], (unsigned long long)s[n * 90 / 100], n);
	fflush(stdout);
}

/* Print one BENCH row in the run's unit (instructions or cycles). */
static void report(const char *name, uint64_t *s, size_t n)
{
	report_in(name, unit, s, n);
}

/* Median of 10,000 empty samples: what every sample pays for the timer itself. */
static void measure_overhead(void)
{
	overhead = 0;
	for (size_t i = 0; i < ITERS; i++) {
		uint64_t t0 = stamp_begin();
		uint64_t t1 = stamp_end();
		samples[i] = t1 - t0;
	}
	overhead = sorted_median(samples, ITERS);
	printf("# timer overhead %llu (subtracted from every sample)\n",
	       (unsigned long long)overhead);
}

/* ---- helpers --------------------------------------------------------------- */

static inline long raw_syscall0(long nr)
{
	long ret;
	__asm__ volatile("syscall" : "=a"(ret) : "a"(nr) : "rcx", "r11", "memory");
	return ret;
}

static void pin_to_cpu0(void)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(0, &set);
	if (sched_setaffinity(0, sizeof set, &set) != 0)
		fail("sched_setaffinity");
}

/* Private anonymous region of `pages` pages, never backed by huge pages. */
static char *map_region(size_t pages)
{
	size_t len = pages * PAGE;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fail("mmap");
	if (madvise(p, len, MADV_NOHUGEPAGE) != 0)
		fail("madvise");
	return p;
}

/* One zeroed page shared with children (MAP_SHARED survives fork). */
static void *map_shared_page(void)
{
	void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		fail("mmap shared");
	return p;
}

static void reap(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			fail("waitpid");
}

/* Waits for `pid` to end and returns its wait status. */
static int wait_status(pid_t pid)
{
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			fail("waitpid");
	return status;
}

/* Stops the run unless a child of row `row` ended with exit(0). */
static void check_exit0(const char *row, int status)
{
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		printf("BENCH-ERROR %s: a child ended with wait status %#x, not exit 0\n", row,
		       (unsigned)status);
		finish(1);
	}
}

static long futex(int *word, int op, int val)
{
	return syscall(SYS_futex, word, op, val, NULL, NULL, 0);
}

/* ---- benchmarks ------------------------------------------------------------ */

/* null_syscall: getppid through a bare `syscall` instruction, one per sample. */
static void bench_null_syscall(void)
{
	for (int i = 0; i < WARMUP; i++)
		raw_syscall0(SYS_getppid);
	for (int i = 0; i < ITERS; i++) {
		uint64_t t0 = stamp_begin();
		raw_syscall0(SYS_getppid);
		samples[i] = elapsed(t0, stamp_end());
	}
	report("null_syscall", samples, ITERS);
}

/*
 * Whether glibc's clock_gettime(CLOCK_MONOTONIC) enters the kernel. A child
 * installs a seccomp filter under which the clock_gettime syscall fails
 * with errno ENOTUNIQ (an errno that call never returns otherwise), then
 * calls glibc. Returns 1 if the call made the syscall, 0 if it did not
 * (it was answered in user space by the vDSO), -1 if the check itself
 * failed.
 */
static int clock_read_enters_kernel(void)
{
	pid_t pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0) {
		struct sock_filter filter[] = {
			/* Another architecture's syscall numbers mean nothing here: allow. */
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 0, 3),
			BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
			BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clock_gettime, 0, 1),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOTUNIQ),
			BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		};
		struct sock_fprog prog = {
			.len = sizeof filter / sizeof filter[0],
			.filter = filter,
		};
		if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
		    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
			_exit(2);
		struct timespec ts;
		if (clock_gettime(CLOCK_MONOTONIC, &ts) == 0)
			_exit(0);
		_exit(errno == ENOTUNIQ ? 1 : 3);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			fail("waitpid");
	if (!WIFEXITED(status))
		return -1;
	switch (WEXITSTATUS(status)) {
	case 0:
		return 0;
	case 1:
		return 1;
	default:
		return -1;
	}
}

/*
 * clock_read: glibc's clock_gettime(CLOCK_MONOTONIC), the call a program
 * makes. glibc answers it from the vDSO without entering the kernel, in a
 * static binary too (since glibc 2.31, which finds the vDSO through
 * AT_SYSINFO_EHDR at start-up), as long as the clocksource can be read in
 * user space (here: tsc). Both are checked first; if either fails the row
 * would time a syscall instead, so it says why in a comment and prints
 * nothing.
 */
static void bench_clock_read(void)
{
	unsigned long vdso = getauxval(AT_SYSINFO_EHDR);
	if (vdso == 0) {
		printf("# clock_read skipped: the kernel mapped no vDSO\n");
		return;
	}
	int enters = clock_read_enters_kernel();
	if (enters != 0) {
		printf("# clock_read skipped: %s\n",
		       enters > 0 ? "glibc's clock_gettime makes a syscall (clocksource not "
				    "readable from user space?)"
				  : "the seccomp check failed");
		return;
	}
	printf("# clock_read: vDSO at %#lx; glibc's clock_gettime makes no syscall\n", vdso);
	struct timespec ts;
	uint64_t sink = 0;
	for (int i = 0; i < WARMUP + ITERS; i++) {
		uint64_t t0 = stamp_begin();
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t t = elapsed(t0, stamp_end());
		sink += (uint64_t)ts.tv_nsec;
		if (i >= WARMUP)
			samples[i - WARMUP] = t;
	}
	/* Keeps the reads from being optimised out (they are not: glibc's
	 * function is opaque to the compiler), and is a sanity check. */
	if (sink == 0)
		printf("# clock_read: every tv_nsec read was 0\n");
	report("clock_read", samples, ITERS);
}

/*
 * ioport_out: one `outb` to port 0x80 (the POST diagnostic port, which
 * QEMU's PC ignores) from user space, after ioperm(0x80, 1, 1) has opened
 * that port in this process's I/O bitmap. Needs CAP_SYS_RAWIO, which /init
 * (root) has; otherwise the row is skipped with a comment.
 */
static void bench_ioport_out(void)
{
	if (ioperm(0x80, 1, 1) != 0) {
		printf("# ioport_out skipped: ioperm(0x80): %s\n", strerror(errno));
		return;
	}
	for (int i = 0; i < WARMUP + ITERS; i++) {
		uint64_t t0 = stamp_begin();
		__asm__ volatile("outb %%al, $0x80" : : "a"(0) : "memory");
		uint64_t t = elapsed(t0, stamp_end());
		if (i >= WARMUP)
			samples[i - WARMUP] = t;
	}
	if (ioperm(0x80, 1, 0) != 0)
		fail("ioperm off");
	report("ioport_out", samples, ITERS);
}

/*
 * pipe_pingpong: the parent writes one byte on pipe A; the child reads it
 * and answers with one byte on pipe B; the parent reads that. A sample is
 * one full round trip (two context switches on the one CPU).
 */
static void bench_pipe_pingpong(void)
{
	int a[2], b[2];
	char byte = 'p';
	if (pipe(a) != 0 || pipe(b) != 0)
		fail("pipe");
	pid_t pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0) {
		char c;
		while (read(a[0], &c, 1) == 1 && c != 'q')
			if (write(b[1], &c, 1) != 1)
				_exit(1);
		_exit(0);
	}
	for (int i = 0; i < WARMUP + ITERS; i++) {
		uint64_t t0 = stamp_begin();
		if (write(a[1], &byte, 1) != 1 || read(b[0], &byte, 1) != 1)
			fail("pipe round trip");
		uint64_t t = elapsed(t0, stamp_end());
		if (i >= WARMUP)
			samples[i - WARMUP] = t;
	}
	byte = 'q';
	if (write(a[1], &byte, 1) != 1)
		fail("pipe stop");
	reap(pid);
	close(a[0]);
	close(a[1]);
	close(b[0]);
	close(b[1]);
	report("pipe_pingpong", samples, ITERS);
}

/* Shared between parent and child for the futex and yield rows. */
struct shared {
	int word;   /* futex word: 1 = child's turn, 0 = parent's turn */
	int stop;   /* parent asks the child to exit */
	long count; /* yield row: how many times the child has run */
};

/*
 * futex_pingpong: one futex word in a MAP_SHARED page. The parent stores 1,
 * FUTEX_WAKEs the child and FUTEX_WAITs while the word is still 1; the child
 * stores 0, wakes the parent and waits while the word is 0. Nobody spins, so
 * each round trip is two sleeps and two wake-ups.
 */
static void bench_futex_pingpong(void)
{
	struct shared *sh = map_shared_page();
	pid_t pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0) {
		for (;;) {
			while (__atomic_load_n(&sh->word, __ATOMIC_SEQ_CST) == 0)
				futex(&sh->word, FUTEX_WAIT, 0);
			if (__atomic_load_n(&sh->stop, __ATOMIC_SEQ_CST))
				_exit(0);
			__atomic_store_n(&sh->word, 0, __ATOMIC_SEQ_CST);
			futex(&sh->word, FUTEX_WAKE, 1);
		}
	}
	for (int i = 0; i < WARMUP + ITERS; i++) {
		uint64_t t0 = stamp_begin();
		__atomic_store_n(&sh->word, 1, __ATOMIC_SEQ_CST);
		futex(&sh->word, FUTEX_WAKE, 1);
		while (__atomic_load_n(&sh->word, __ATOMIC_SEQ_CST) == 1)
			futex(&sh->word, FUTEX_WAIT, 1);
		uint64_t t = elapsed(t0, stamp_end());
		if (i >= WARMUP)
			samples[i - WARMUP] = t;
	}
	__atomic_store_n(&sh->stop, 1, __ATOMIC_SEQ_CST);
	__atomic_store_n(&sh->word, 1, __ATOMIC_SEQ_CST);
	futex(&sh->word, FUTEX_WAKE, 1);
	reap(pid);
	munmap(sh, PAGE);
	report("futex_pingpong", samples, ITERS);
}

/*
 * yield_roundtrip: parent and child both call sched_yield in a loop on the
 * one CPU. A sample is one parent sched_yield. The child bumps a shared
 * counter once per turn; a sample is kept only if the counter moved by
 * exactly one (the partner ran exactly once: two switches). The scheduler
 * does not promise strict alternation, so the row reports how many samples
 * were kept as its iteration count.
 */
static void bench_yield_roundtrip(void)
{
	struct shared *sh = map_shared_page();
	pid_t pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0) {
		while (!__atomic_load_n(&sh->stop, __ATOMIC_RELAXED)) {
			__atomic_add_fetch(&sh->count, 1, __ATOMIC_RELAXED);
			sched_yield();
		}
		_exit(0);
	}
	while (__atomic_load_n(&sh->count, __ATOMIC_RELAXED) == 0)
		sched_yield();
	for (int i = 0; i < WARMUP; i++)
		sched_yield();
	size_t kept = 0;
	for (long tries = 0; tries < 10L * ITERS && kept < ITERS; tries++) {
		long before = __atomic_load_n(&sh->count, __ATOMIC_RELAXED);
		uint64_t t0 = stamp_begin();
		sched_yield();
		uint64_t t = elapsed(t0, stamp_end());
		if (__atomic_load_n(&sh->count, __ATOMIC_RELAXED) - before == 1)
			samples[kept++] = t;
	}
	__atomic_store_n(&sh->stop, 1, __ATOMIC_RELAXED);
	reap(pid);
	munmap(sh, PAGE);
	report("yield_roundtrip", samples, kept);
}

/* timer_deadline_error_us: samples and the deadline distance. */
#define TIMER_ITERS 1000
#define TIMER_WARMUP 20
#define TIMER_AHEAD_NS 1000000L

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0)
		fail("clock_gettime");
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Fills samples[0..TIMER_ITERS) with how many nanoseconds past an absolute
 * deadline TIMER_AHEAD_NS ahead the clock reads right after waking. */
static void sample_deadline_lateness_ns(void)
{
	for (int i = 0; i < TIMER_WARMUP + TIMER_ITERS; i++) {
		uint64_t deadline = monotonic_ns() + TIMER_AHEAD_NS;
		struct timespec ts = {
			.tv_sec = (time_t)(deadline / 1000000000u),
			.tv_nsec = (long)(deadline % 1000000000u),
		};
		int err;
		while ((err = clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL)) == EINTR)
			;
		uint64_t woke = monotonic_ns();
		if (err != 0) {
			errno = err;
			fail("clock_nanosleep");
		}
		if (i >= TIMER_WARMUP)
			samples[i - TIMER_WARMUP] = woke > deadline ? woke - deadline : 0;
	}
}

/*
 * timer_deadline_error_us: how late a sleep until an absolute deadline
 * 1 ms ahead ends. A sample reads CLOCK_MONOTONIC, calls
 * clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME) for that reading plus
 * 1 ms, reads the clock again as soon as it returns, and keeps how far
 * past the deadline that second reading is, in microseconds, rounded to
 * the nearest. The lateness covers the timer interrupt, the wake-up, the
 * switch back and the return to user space, plus the timer slack Linux
 * may add to a normal thread's sleep (50 us by default, which the row
 * keeps: it is what a program gets). The same with the slack set to 1 ns
 * (PR_SET_TIMERSLACK) is printed as a comment, both in nanoseconds.
 *
 * Under -icount shift=0,sleep=off the virtual clock advances one
 * nanosecond per guest instruction and jumps straight to the next timer
 * while the CPU idles, so the figures are exact and a 1 ms sleep costs
 * no real time.
 */
static void bench_timer_deadline_error(void)
{
	long slack_ns = prctl(PR_GET_TIMERSLACK, 0, 0, 0, 0);
	if (slack_ns < 0)
		fail("PR_GET_TIMERSLACK");

	if (prctl(PR_SET_TIMERSLACK, 1, 0, 0, 0) != 0)
		fail("PR_SET_TIMERSLACK");
	sample_deadline_lateness_ns();
	uint64_t tight_median = sorted_median(samples, TIMER_ITERS);
	printf("# timer_deadline_error with timer slack 1 ns: median %llu ns, p10 %llu, p90 %llu\n",
	       (unsigned long long)tight_median, (unsigned long long)samples[TIMER_ITERS / 10],
	       (unsigned long long)samples[TIMER_ITERS * 9 / 10]);

	if (prctl(PR_SET_TIMERSLACK, (unsigned long)slack_ns, 0, 0, 0) != 0)
		fail("PR_SET_TIMERSLACK");
	sample_deadline_lateness_ns();
	uint64_t median = sorted_median(samples, TIMER_ITERS);
	printf("# timer_deadline_error with timer slack %ld ns (the default): median %llu ns, "
	       "p10 %llu, p90 %llu\n",
	       slack_ns, (unsigned long long)median, (unsigned long long)samples[TIMER_ITERS / 10],
	       (unsigned long long)samples[TIMER_ITERS * 9 / 10]);
	for (size_t i = 0; i < TIMER_ITERS; i++)
		samples[i] = (samples[i] + 500) / 1000;
	report_in("timer_deadline_error_us", "us", samples, TIMER_ITERS);
}

/*
 * page_fault_zero: a fresh 10,000-page private anonymous region; one write
 * per page, each timed. Every write is a first-touch fault that allocates
 * and zeroes a page. No warm-up: every page can be faulted only once.
 */
static void bench_page_fault_zero(void)
{
	char *p = map_region(FAULT_PAGES);
	for (size_t i = 0; i < FAULT_PAGES; i++) {
		volatile char *q = p + i * PAGE;
		uint64_t t0 = stamp_begin();
		*q = 1;
		samples[i] = elapsed(t0, stamp_end());
	}
	munmap(p, FAULT_PAGES * PAGE);
	report("page_fault_zero", samples, FAULT_PAGES);
}

/*
 * page_fault_cow: the parent populates 10,000 pages and forks; the child
 * just blocks reading a pipe, so every page stays shared. The parent then
 * writes one byte per page, timing each copy-on-write fault. Closing the
 * pipe lets the child exit.
 */
static void bench_page_fault_cow(void)
{
	int gate[2];
	char *p = map_region(FAULT_PAGES);
	for (size_t i = 0; i < FAULT_PAGES; i++)
		p[i * PAGE] = 1;
	if (pipe(gate) != 0)
		fail("pipe");
	pid_t pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0) {
		char c;
		close(gate[1]);
		if (read(gate[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(gate[0]);
	for (size_t i = 0; i < FAULT_PAGES; i++) {
		volatile char *q = p + i * PAGE;
		uint64_t t0 = stamp_begin();
		*q = 2;
		samples[i] = elapsed(t0, stamp_end());
	}
	close(gate[1]);
	reap(pid);
	munmap(p, FAULT_PAGES * PAGE);
	report("page_fault_cow", samples, FAULT_PAGES);
}

/*
 * map_unmap_page: mmap one anonymous page and munmap it, never touched.
 *
 * A static /init has nothing else in its mmap area. Measured on Debian's
 * 6.1 under icount, mapping the only VMA there costs about 2,900 more
 * instructions than mapping one next to an existing mapping, which is the
 * usual case (shared libraries and the like). So a read-only page stays
 * mapped as a neighbour while this runs; being read-only, the new page
 * cannot merge with it.
 */
static void bench_map_unmap_page(void)
{
	void *neighbour = mmap(NULL, PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (neighbour == MAP_FAILED)
		fail("mmap");
	for (int i = 0; i < WARMUP + ITERS; i++) {
		uint64_t t0 = stamp_begin();
		void *p = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			fail("mmap");
		munmap(p, PAGE);
		uint64_t t = elapsed(t0, stamp_end());
		if (i >= WARMUP)
			samples[i - WARMUP] = t;
	}
	munmap(neighbour, PAGE);
	report("map_unmap_page", samples, ITERS);
}

/*
 * aspace_clone_1000: fork a process that has 1,000 touched private pages.
 * A sample runs from fork() in the parent until the child (which calls
 * _exit(0) at once) has been reaped. A fork costs hundreds of thousands of
 * instructions and runs slowly under TCG, so this row takes only 200
 * samples (after 20 warm-up forks) instead of 10,000.
 */
#define CLONE_ITERS 200
#define CLONE_WARMUP 20
static void bench_aspace_clone_1000(void)
{
	char *p = map_region(CLONE_PAGES);
	for (size_t i = 0; i < CLONE_PAGES; i++)
		p[i * PAGE] = 1;
	for (int i = 0; i < CLONE_WARMUP + CLONE_ITERS; i++) {
		uint64_t t0 = stamp_begin();
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid < 0)
			fail("fork");
		reap(pid);
		uint64_t t = elapsed(t0, stamp_end());
		if (i >= CLONE_WARMUP)
			samples[i - CLONE_WARMUP] = t;
	}
	munmap(p, CLONE_PAGES * PAGE);
	report("aspace_clone_1000", samples, CLONE_ITERS);
}

/*
 * spawn_exit: posix_spawn of /bin/tinytrue (tinytrue.c: `_start` makes the
 * exit_group(0) syscall, no libc), then waitpid until it has exited. A
 * sample runs from the call to posix_spawn until waitpid has returned the
 * child's exit, which must be a normal exit with status 0. glibc's
 * posix_spawn (static too) is clone(CLONE_VM | CLONE_VFORK) onto a stack
 * of its own plus execve in the child, the parent resuming once the exec
 * has succeeded or failed (an exec failure comes back as posix_spawn's
 * return value). The child gets an empty environment, not /init's, so the
 * row costs the same whatever the kernel passed us; no file actions, no
 * attributes. 200 samples after 20 warm-up spawns, as aspace_clone_1000.
 */
#define SPAWN_ITERS 200
#define SPAWN_WARMUP 20
#define TINYTRUE "/bin/tinytrue"
static void bench_spawn_exit(void)
{
	if (access(TINYTRUE, X_OK) != 0) {
		printf("# spawn_exit skipped: %s: %s (xtask puts it in the initramfs)\n", TINYTRUE,
		       strerror(errno));
		return;
	}
	char *argv[] = {TINYTRUE, NULL};
	char *envp[] = {NULL};
	for (int i = 0; i < SPAWN_WARMUP + SPAWN_ITERS; i++) {
		pid_t pid;
		int status;
		uint64_t t0 = stamp_begin();
		int err = posix_spawn(&pid, TINYTRUE, NULL, NULL, argv, envp);
		if (err != 0) {
			errno = err;
			fail("posix_spawn " TINYTRUE);
		}
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR)
				fail("waitpid");
		uint64_t t = elapsed(t0, stamp_end());
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
			printf("BENCH-ERROR spawn_exit: %s ended with wait status %#x, not exit 0\n",
			       TINYTRUE, (unsigned)status);
			finish(1);
		}
		if (i >= SPAWN_WARMUP)
			samples[i - SPAWN_WARMUP] = t;
	}
	report("spawn_exit", samples, SPAWN_ITERS);
}

/*
 * fork_exit_wait and fork_exec_wait: a sample runs from the call to glibc's
 * fork() in the parent until waitpid has returned the child's exit; the
 * exit status is checked after the sample is taken. 1,000 samples after
 * 100 warm-up runs, as the reference figures these rows repeat.
 */
#define FORK_ITERS 1000
#define FORK_WARMUP 100

/* fork_exit_wait: the child calls _exit(0) at once; nothing is touched in
 * between, so the fork copies the parent's page tables and no page. */
static void bench_fork_exit_wait(void)
{
	for (int i = 0; i < FORK_WARMUP + FORK_ITERS; i++) {
		uint64_t t0 = stamp_begin();
		pid_t pid = fork();
		if (pid == 0)
			_exit(0);
		if (pid < 0)
			fail("fork");
		int status = wait_status(pid);
		uint64_t t = elapsed(t0, stamp_end());
		check_exit0("fork_exit_wait", status);
		if (i >= FORK_WARMUP)
			samples[i - FORK_WARMUP] = t;
	}
	report("fork_exit_wait", samples, FORK_ITERS);
}

/*
 * fork_exec_wait: fork, the child execve()s /bin/tinytrue (the binary
 * spawn_exit starts, with the same empty environment) and the parent waits
 * for its exit. A failed exec ends the child with 127, which the status
 * check reports.
 */
static void bench_fork_exec_wait(void)
{
	if (access(TINYTRUE, X_OK) != 0) {
		printf("# fork_exec_wait skipped: %s: %s (xtask puts it in the initramfs)\n",
		       TINYTRUE, strerror(errno));
		return;
	}
	char *argv[] = {TINYTRUE, NULL};
	char *envp[] = {NULL};
	for (int i = 0; i < FORK_WARMUP + FORK_ITERS; i++) {
		uint64_t t0 = stamp_begin();
		pid_t pid = fork();
		if (pid == 0) {
			execve(TINYTRUE, argv, envp);
			_exit(127);
		}
		if (pid < 0)
			fail("fork");
		int status = wait_status(pid);
		uint64_t t = elapsed(t0, stamp_end());
		check_exit0("fork_exec_wait", status);
		if (i >= FORK_WARMUP)
			samples[i - FORK_WARMUP] = t;
	}
	report("fork_exec_wait", samples, FORK_ITERS);
}

/*
 * pipe_throughput_64k: 64 KiB moved through a pipe whose capacity is set
 * to exactly 64 KiB (F_SETPIPE_SZ; it is also the default). A child writes
 * 64 KiB per write() for ever; the parent times reading 64 KiB (read()
 * again for the rest if one returns less, which is counted and printed).
 * On the one CPU the steady state is: the parent's read finds the pipe
 * empty and sleeps; the child's pending write fills it and returns; its
 * next write finds it full and sleeps; the parent's read copies the 64 KiB
 * out and returns. So a sample is one 64 KiB write and one 64 KiB read
 * with the two switches between the processes: 2 x 65,536 bytes copied by
 * `rep movsb`, which icount counts once per byte. 2,000 samples after 200
 * warm-up reads. At the end the parent closes its end; the child, which
 * ignores SIGPIPE, gets EPIPE and exits 0.
 */
#define PIPE_CHUNK 65536
#define PIPE_ITERS 2000
#define PIPE_WARMUP 200

/* The parent reads into it, the child (its own copy after fork) writes from it. */
static char pipe_buf[PIPE_CHUNK] __attribute__((aligned(4096)));

static void bench_pipe_throughput_64k(void)
{
	int p[2];
	if (pipe(p) != 0)
		fail("pipe");
	int size = fcntl(p[1], F_SETPIPE_SZ, PIPE_CHUNK);
	if (size < 0)
		fail("F_SETPIPE_SZ");
	if (size != PIPE_CHUNK) {
		printf("BENCH-ERROR pipe_throughput_64k: F_SETPIPE_SZ(%d) gave %d bytes\n",
		       PIPE_CHUNK, size);
		finish(1);
	}
	memset(pipe_buf, 0, sizeof pipe_buf);
	pid_t pid = fork();
	if (pid < 0)
		fail("fork");
	if (pid == 0) {
		signal(SIGPIPE, SIG_IGN);
		close(p[0]);
		memset(pipe_buf, 'w', sizeof pipe_buf);
		for (;;) {
			size_t done = 0;
			while (done < PIPE_CHUNK) {
				ssize_t n = write(p[1], pipe_buf + done, PIPE_CHUNK - done);
				if (n < 0)
					_exit(errno == EPIPE ? 0 : 1);
				done += (size_t)n;
			}
		}
	}
	close(p[1]);
	long short_reads = 0;
	for (int i = 0; i < PIPE_WARMUP + PIPE_ITERS; i++) {
		uint64_t t0 = stamp_begin();
		size_t done = 0;
		while (done < PIPE_CHUNK) {
			ssize_t n = read(p[0], pipe_buf + done, PIPE_CHUNK - done);
			if (n <= 0)
				fail("pipe read");
			done += (size_t)n;
			if (done < PIPE_CHUNK)
				short_reads++;
		}
		uint64_t t = elapsed(t0, stamp_end());
		if (i >= PIPE_WARMUP)
			samples[i - PIPE_WARMUP] = t;
	}
	close(p[0]);
	check_exit0("pipe_throughput_64k", wait_status(pid));
	if (pipe_buf[0] != 'w' || pipe_buf[PIPE_CHUNK - 1] != 'w') {
		printf("BENCH-ERROR pipe_throughput_64k: the data read is not what was written\n");
		finish(1);
	}
	if (short_reads != 0)
		printf("# pipe_throughput_64k: %ld reads returned less than asked\n", short_reads);
	report("pipe_throughput_64k", samples, PIPE_ITERS);
}

/*
 * The file rows, on the tmpfs main() mounts at /tmp (as /init; run as an
 * ordinary program they use /tmp if it is a tmpfs, else they are skipped).
 * TMP_FILE holds two pages of data, so the 4 KiB read never reaches its
 * end; every row takes the default 10,000 samples after 1,000 warm-up ones.
 */
#define TMP_FILE "/tmp/f"
#define TMP_NEW "/tmp/g"
#define TMP_FILE_SIZE (2 * PAGE)

static char file_buf[TMP_FILE_SIZE] __attribute__((aligned(4096)));

/* Creates TMP_FILE full of 'f' and makes sure TMP_NEW does not exist. */
static void make_tmp_file(void)
{
	memset(file_buf, 'f', sizeof file_buf);
	int fd = open(TMP_FILE, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		fail("create " TMP_FILE);
	if (write(fd, file_buf, sizeof file_buf) != (ssize_t)sizeof file_buf)
		fail("write " TMP_FILE);
	if (close(fd) != 0)
		fail("close " TMP_FILE);
	if (unlink(TMP_NEW) != 0 && errno != ENOENT)
		fail("unlink " TMP_NEW);
}

/* file_open_close: open(TMP_FILE, O_RDONLY) and close the descriptor. */
static void bench_file_open_close(void)
{
	for (int i = 0; i < WARMUP + ITERS; i++) {
		uint64_t t0 = stamp_begin();
		int fd = open(TMP_FILE, O_RDONLY);
		if (fd < 0)
			fail("open " TMP_FILE);
		if (close(fd) != 0)
			fail("close " TMP_FILE);
		uint64_t t = elapsed(t0, stamp_end());
		if (i >= WARMUP)
			samples[i - WARMUP] = t;
	}
	report("file_open_close", samples, ITERS);
}

/* file_read_4k: pread() of the first 4 KiB of TMP_FILE, open throughout,
 * into a page-aligned buffer that is already mapped. */
static void bench_file_read_4k(void)
{
	int fd = open(TMP_FILE, O_RDONLY);
	if (fd < 0)
		fail("open " TMP_FILE);
	memset(file_buf, 0, sizeof file_buf);
	for (int i = 0; i < WARMUP + ITERS; i++) {
		uint64_t t0 = stamp_begin();
		if (pread(fd, file_buf, PAGE, 0) != (ssize_t)PAGE)
			fail("pread " TMP_FILE);
		uint64_t t = elapsed(t0, stamp_end());
		if (i >= WARMUP)
			samples[i - WARMUP] = t;
	}
	if (close(fd) != 0)
		fail("close " TMP_FILE);
	if (file_buf[0] != 'f' || file_buf[PAGE - 1] != 'f' || file_buf[PAGE] != 0) {
		printf("BENCH-ERROR file_read_4k: pread did not return the file's first page\n");
		finish(1);
	}
	report("file_read_4k", samples, ITERS);
}

/* file_stat: stat(TMP_FILE) (glibc makes it newfstatat(AT_FDCWD, ...)). */
static void bench_file_stat(void)
{
	struct stat st;
	for (int i = 0; i < WARMUP + ITERS; i++) {
		uint64_t t0 = stamp_begin();
		if (stat(TMP_FILE, &st) != 0)
			fail("stat " TMP_FILE);
		uint64_t t = elapsed(t0, stamp_end());
		if (i >= WARMUP)
			samples[i - WARMUP] = t;
	}
	if (st.st_size != (off_t)TMP_FILE_SIZE) {
		printf("BENCH-ERROR file_stat: %s has %lld bytes, not %lu\n", TMP_FILE,
		       (long long)st.st_size, TMP_FILE_SIZE);
		finish(1);
	}
	report("file_stat", samples, ITERS);
}

/* file_create_unlink: open(TMP_NEW, O_WRONLY | O_CREAT | O_EXCL) creates a
 * new empty file, then close and unlink it. */
static void bench_file_create_unlink(void)
{
	for (int i = 0; i < WARMUP + ITERS; i++) {
		uint64_t t0 = stamp_begin();
		int fd = open(TMP_NEW, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0)
			fail("create " TMP_NEW);
		if (close(fd) != 0)
			fail("close " TMP_NEW);
		if (unlink(TMP_NEW) != 0)
			fail("unlink " TMP_NEW);
		uint64_t t = elapsed(t0, stamp_end());
		if (i >= WARMUP)
			samples[i - WARMUP] = t;
	}
	report("file_create_unlink", samples, ITERS);
}

/* All the file rows, if /tmp is a tmpfs; TMP_FILE is removed afterwards. */
static void bench_files(void)
{
	struct statfs fs;
	if (statfs("/tmp", &fs) != 0 || fs.f_type != TMPFS_MAGIC) {
		printf("# file rows skipped: /tmp is not a tmpfs\n");
		return;
	}
	make_tmp_file();
	bench_file_open_close();
	bench_file_read_4k();
	bench_file_stat();
	bench_file_create_unlink();
	if (unlink(TMP_FILE) != 0)
		fail("unlink " TMP_FILE);
}

/*
 * The shell rows, timed the way Mica's are (servers/test-runner/src/
 * bench_shell.rs), with busybox's `sh` as the shell. xtask puts a static
 * busybox (Debian's busybox-static) in the initramfs as /bin/busybox; the
 * rows are skipped with a comment when it is missing. A sample runs from
 * fork() until waitpid() has returned the shell's exit, its output going
 * to /dev/null:
 *
 * - shell_true: `busybox sh -c` with ten `/bin/tinytrue` commands, minus
 *   the median of `busybox sh -c :`, divided by ten: what one external
 *   command costs the shell (fork, exec of tinytrue, wait);
 * - shell_pipeline: `busybox sh -c 'cat /tmp/onemeg | wc -l'` on a 1 MiB
 *   tmpfs file of 16,384 lines of 64 bytes (busybox runs each applet by
 *   re-executing itself). Its output is checked once first.
 */
#define BUSYBOX "/bin/busybox"
#define SHELL_ITERS 20
#define SHELL_WARMUP 2
#define ONEMEG "/tmp/onemeg"
#define ONEMEG_LINES 16384

/* Runs `busybox sh -c script` with stdout and stderr on `out_fd` and no
 * environment but PATH; returns its wait status. */
static int run_busybox_sh(const char *script, int out_fd)
{
	char *argv[] = {"sh", "-c", (char *)script, NULL};
	char *envp[] = {"PATH=/bin", NULL};
	pid_t pid = fork();
	if (pid == 0) {
		if (dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
			_exit(126);
		execve(BUSYBOX, argv, envp);
		_exit(127);
	}
	if (pid < 0)
		fail("fork");
	return wait_status(pid);
}

/* SHELL_ITERS samples of `busybox sh -c script` into `s`. */
static void time_busybox_sh(const char *row, const char *script, int null_fd, uint64_t *s)
{
	for (int i = 0; i < SHELL_WARMUP + SHELL_ITERS; i++) {
		uint64_t t0 = stamp_begin();
		int status = run_busybox_sh(script, null_fd);
		uint64_t t = elapsed(t0, stamp_end());
		check_exit0(row, status);
		if (i >= SHELL_WARMUP)
			s[i - SHELL_WARMUP] = t;
	}
}

static void bench_shell_true(int null_fd)
{
	static uint64_t empty[SHELL_ITERS];
	const char *ten = "/bin/tinytrue; /bin/tinytrue; /bin/tinytrue; /bin/tinytrue; "
			  "/bin/tinytrue; /bin/tinytrue; /bin/tinytrue; /bin/tinytrue; "
			  "/bin/tinytrue; /bin/tinytrue";
	time_busybox_sh("shell_true", ":", null_fd, empty);
	time_busybox_sh("shell_true", ten, null_fd, samples);
	uint64_t base = sorted_median(empty, SHELL_ITERS);
	for (int i = 0; i < SHELL_ITERS; i++)
		samples[i] = (samples[i] > base ? samples[i] - base : 0) / 10;
	report("shell_true", samples, SHELL_ITERS);
}

/* Writes ONEMEG: ONEMEG_LINES lines of 63 bytes and a newline. */
static void make_onemeg(void)
{
	static char line[64];
	memset(line, 'x', sizeof line - 1);
	line[sizeof line - 1] = '\n';
	int fd = open(ONEMEG, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		fail("create " ONEMEG);
	for (int i = 0; i < ONEMEG_LINES; i++)
		if (write(fd, line, sizeof line) != (ssize_t)sizeof line)
			fail("write " ONEMEG);
	if (close(fd) != 0)
		fail("close " ONEMEG);
}

static void bench_shell_pipeline(int null_fd)
{
	const char *script = "cat " ONEMEG " | wc -l";
	make_onemeg();
	/* Once through a pipe, to see that the pipeline really counts the lines. */
	int p[2];
	if (pipe(p) != 0)
		fail("pipe");
	int status = run_busybox_sh(script, p[1]);
	close(p[1]);
	char out[32] = {0};
	ssize_t n = read(p[0], out, sizeof out - 1);
	close(p[0]);
	check_exit0("shell_pipeline", status);
	if (n <= 0 || strtol(out, NULL, 10) != ONEMEG_LINES) {
		printf("BENCH-ERROR shell_pipeline: wc -l printed '%s', not %d\n", out,
		       ONEMEG_LINES);
		finish(1);
	}
	time_busybox_sh("shell_pipeline", script, null_fd, samples);
	report("shell_pipeline", samples, SHELL_ITERS);
	if (unlink(ONEMEG) != 0)
		fail("unlink " ONEMEG);
}

/* Both shell rows, if busybox and a tmpfs /tmp are there. */
static void bench_shell(void)
{
	struct statfs fs;
	if (access(BUSYBOX, X_OK) != 0) {
		printf("# shell rows skipped: %s: %s (xtask puts a static busybox there)\n",
		       BUSYBOX, strerror(errno));
		return;
	}
	if (access(TINYTRUE, X_OK) != 0 || statfs("/tmp", &fs) != 0 ||
	    fs.f_type != TMPFS_MAGIC) {
		printf("# shell rows skipped: they need %s and a tmpfs /tmp\n", TINYTRUE);
		return;
	}
	int null_fd = open("/dev/null", O_WRONLY);
	if (null_fd < 0)
		fail("open /dev/null");
	bench_shell_true(null_fd);
	bench_shell_pipeline(null_fd);
	close(null_fd);
}

/* As /init: a fresh tmpfs on /tmp for the file rows (the initramfs has no
 * /tmp directory, so it is made first, in the rootfs), and /proc. */
static void mount_tmp(void)
{
	if (mkdir("/tmp", 01777) != 0 && errno != EEXIST)
		fail("mkdir /tmp");
	if (mount("tmpfs", "/tmp", "tmpfs", 0, NULL) != 0)
		fail("mount tmpfs on /tmp");
	/* busybox runs an applet by re-executing /proc/self/exe. */
	if (mkdir("/proc", 0555) != 0 && errno != EEXIST)
		fail("mkdir /proc");
	if (mount("proc", "/proc", "proc", 0, NULL) != 0)
		fail("mount proc on /proc");
}

/* ---- main ------------------------------------------------------------------ */

/* `only=TEXT` on the command line: run just the rows whose names contain
 * it, as Mica's runner does (servers/test-runner/src/bench.rs). */
static const char *only;

/* Whether the rows named in `names` (space-separated) are to run. */
static int want(const char *names)
{
	return only == NULL || strstr(names, only) != NULL;
}

int main(int argc, char **argv)
{
	/* As /init, the kernel passes the command-line words after "--" here. */
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "unit=cycles") == 0)
			unit = "cycles";
		else if (strcmp(argv[i], "unit=instructions") == 0)
			unit = "instructions";
		else if (strncmp(argv[i], "only=", 5) == 0)
			only = argv[i] + 5;
		else
			printf("# ignoring argument '%s'\n", argv[i]);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	unsigned int eax, ebx, ecx, edx;
	if (__get_cpuid(0x80000001, &eax, &ebx, &ecx, &edx))
		have_rdtscp = (edx >> 27) & 1;
	printf("# mica linux bench: pid %d, rdtscp %d, unit %s\n", (int)getpid(), have_rdtscp,
	       unit);

	if (getpid() == 1)
		mount_tmp();
	pin_to_cpu0(); /* children inherit the affinity */
	measure_overhead();

	if (want("null_syscall"))
		bench_null_syscall();
	if (want("clock_read"))
		bench_clock_read();
	if (want("ioport_out"))
		bench_ioport_out();
	if (want("pipe_pingpong"))
		bench_pipe_pingpong();
	if (want("futex_pingpong"))
		bench_futex_pingpong();
	if (want("yield_roundtrip"))
		bench_yield_roundtrip();
	if (want("timer_deadline_error_us"))
		bench_timer_deadline_error();
	if (want("page_fault_zero"))
		bench_page_fault_zero();
	if (want("page_fault_cow"))
		bench_page_fault_cow();
	if (want("map_unmap_page"))
		bench_map_unmap_page();
	if (want("aspace_clone_1000"))
		bench_aspace_clone_1000();
	if (want("spawn_exit"))
		bench_spawn_exit();
	if (want("fork_exit_wait"))
		bench_fork_exit_wait();
	if (want("fork_exec_wait"))
		bench_fork_exec_wait();
	if (want("pipe_throughput_64k"))
		bench_pipe_throughput_64k();
	if (want("file_open_close file_read_4k file_stat file_create_unlink"))
		bench_files();
	if (want("shell_true shell_pipeline"))
		bench_shell();

	printf("BENCH-DONE\n");
	finish(0);
	return 0;
}
