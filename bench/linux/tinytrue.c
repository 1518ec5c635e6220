/*
 * The program the Linux `spawn_exit` (posix_spawn) and `fork_exec_wait`
 * (fork + execve) rows start: as small as a static Linux program gets. No
 * libc, no start files: the kernel enters `_start`, which makes the
 * exit_group(0) syscall at once. xtask/src/linux.rs packs it into the
 * initramfs as /bin/tinytrue, the counterpart of the tiny static ELF that
 * Mica's `spawn_exit` row spawns.
 *
 * Build: gcc -O2 -Wall -Wextra -static -nostdlib -fno-stack-protector \
 *            -o tinytrue tinytrue.c
 */

#define SYS_EXIT_GROUP 231

__attribute__((noreturn)) void _start(void)
{
	/* exit_group never returns; the loop only tells the compiler so. */
	for (;;) {
		long ret = SYS_EXIT_GROUP;
		__asm__ volatile("syscall" : "+a"(ret) : "D"(0) : "rcx", "r11", "memory");
	}
}
