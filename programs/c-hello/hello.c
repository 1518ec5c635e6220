/*
 * A static C program for Mica, built with gcc (-static -nostdlib): it
 * proves the ELF loader is not tuned to rustc's output. No libc: _start
 * reads the System V initial stack itself and makes Mica syscalls with
 * inline assembly.
 *
 * It checks its arguments and thread-local data, then reports its exit
 * status to its parent the way every Mica program does: it sends the
 * EXIT message (abi::startup::EXIT_LABEL, status in word 0) to the parent
 * endpoint named in its startup page, then ends its thread.
 *
 *   argv[1] == "crash": write to address 0x10 (the parent sees a fault)
 *   otherwise: status = 42 + argc, or 1..9 when a check fails
 */

typedef unsigned long u64;
typedef unsigned int u32;

/* abi::syscall numbers and abi::startup layout (see docs/runtime.md). */
#define SYS_THREAD_EXIT 42
#define SYS_SEND 49
#define STARTUP_MAGIC 0x545254534143494dUL /* "MICASTRT" little-endian */
#define EXIT_LABEL 0x0045584954UL
#define AT_NULL 0
#define AT_MICA_STARTUP 0x4d490001UL

struct startup {
    u64 magic;
    u32 version, flags;
    u32 thread, aspace, cspace, budget, parent, debug, log, reserved;
};

static __thread u64 tls_counter = 7;
static __thread u64 tls_zero;
static const char greeting[] = "hello";
static u64 data_word = 0x1234;
static u64 bss_words[512];

static u64 syscall6(u64 n, u64 a, u64 b, u64 c, u64 d, u64 e, u64 f)
{
    register u64 r10 __asm__("r10") = d;
    register u64 r8 __asm__("r8") = e;
    register u64 r9 __asm__("r9") = f;
    u64 status;
    __asm__ volatile("syscall"
                     : "=a"(status), "+D"(a), "+S"(b), "+d"(c), "+r"(r10), "+r"(r8), "+r"(r9)
                     : "a"(n)
                     : "rcx", "r11", "memory");
    return status;
}

static void finish(const struct startup *info, u64 status)
{
    if (info && info->parent) {
        /* Send: rdi = endpoint, rsi = info (label << 16 | 1 word), rdx = word 0. */
        syscall6(SYS_SEND, info->parent, (EXIT_LABEL << 16) | 1, status, 0, 0, 0);
    }
    syscall6(SYS_THREAD_EXIT, status, 0, 0, 0, 0, 0);
    for (;;) {
    }
}

static int equal(const char *a, const char *b)
{
    while (*a && *a == *b) {
        a++;
        b++;
    }
    return *a == *b;
}

void c_main(u64 *sp)
{
    u64 argc = sp[0];
    char **argv = (char **)(sp + 1);
    char **envp = argv + argc + 1;
    u64 *auxv = (u64 *)envp;
    const struct startup *info = 0;
    u64 status = 42 + argc;

    while (*auxv)
        auxv++;
    for (auxv++; auxv[0] != AT_NULL; auxv += 2) {
        if (auxv[0] == AT_MICA_STARTUP)
            info = (const struct startup *)auxv[1];
    }
    if (!info || info->magic != STARTUP_MAGIC)
        finish(0, 1);
    if (argc >= 2 && equal(argv[1], "crash")) {
        *(volatile u64 *)0x10 = 1;
    }
    if (tls_counter != 7 || tls_zero != 0)
        status = 2;
    tls_counter++;
    if (tls_counter != 8)
        status = 3;
    if (data_word != 0x1234 || !equal(greeting, "hello"))
        status = 4;
    for (int i = 0; i < 512; i++) {
        if (bss_words[i] != 0)
            status = 5;
        bss_words[i] = i;
    }
    finish(info, status);
}

__asm__(".globl _start\n"
        "_start:\n"
        "    mov %rsp, %rdi\n"
        "    and $-16, %rsp\n"
        "    call c_main\n"
        "    ud2\n");
