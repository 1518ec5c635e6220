//! The shell language beyond simple commands and the first compound
//! commands: arithmetic expansion, command substitution, `case`,
//! functions, `type` and `command` (docs/shell.md). Each runs `sh -c`
//! and compares `stdout`, `stderr` and the status.

use super::TestResult;
use super::sh::{check, check_err};

/// `$((...))`: constants, variables, operators, assignments, errors.
pub fn arithmetic() -> TestResult {
    check(
        "i=1; i=$((i+1)); echo $i $((i*3)) $(( (1+2) << 2 )) $((0x10 + 010)) $((-7/2)) $((7%3))",
        "2 6 12 24 -3 1\n",
        0,
    )?;
    check("echo $((x=5, x+=2)) $x", "7 7\n", 0)?;
    check(
        "a=3; echo $(($a*2)) $((a ? 10 : 20)) $((!a)) $((~a)) \"$((a<4))\" $((e+1))",
        "6 10 0 -4 1 1\n",
        0,
    )?;
    check(
        "echo $((9223372036854775807 + 1))",
        "-9223372036854775808\n",
        0,
    )?;
    check_err(
        "echo $((1/0)); echo $?",
        "1\n",
        "sh: arithmetic: division by zero\n",
        0,
    )?;
    check_err(
        "x=abc; echo $((x+1))",
        "",
        "sh: arithmetic: x: bad number: abc\n",
        1,
    )?;
    check_err(
        "echo $((1 << 64))",
        "",
        "sh: arithmetic: shift count out of range: 64\n",
        1,
    )?;
    check_err(
        "echo $((1 +))",
        "",
        "sh: arithmetic: syntax error: missing operand\n",
        1,
    )?;
    check_err(
        "echo $((1+2",
        "",
        "sh: -c: line 1: syntax error: unexpected end of input: missing )) of $((\n",
        2,
    )?;
    Ok(())
}

/// `$(...)` and backquotes: output, trailing newlines, splitting,
/// nesting, status, the shell's variables and functions in the child, a
/// large output.
pub fn command_substitution() -> TestResult {
    check(
        "echo $(echo sub) \"$(echo '  a  b  ')\" `echo back`",
        "sub   a  b   back\n",
        0,
    )?;
    check("x=$(echo a; echo; echo); echo \"[$x]\"", "[a]\n", 0)?;
    check("echo $(echo $(echo nested))", "nested\n", 0)?;
    check(
        "for w in $(echo 'a b  c'); do echo \"<$w>\"; done",
        "<a>\n<b>\n<c>\n",
        0,
    )?;
    check(
        "x=$(false); echo $?; x=$(exit 3); echo $?; x=$(true); echo $?",
        "1\n3\n0\n",
        0,
    )?;
    check(
        "v=local; f() { echo fn $1; }; set -- p1 p2; echo $(echo $v; f $2; echo $#)",
        "local fn p2 2\n",
        0,
    )?;
    check("echo $(seq 3 | wc -l) \"`echo \\\"q\\\"`\"", "3 q\n", 0)?;
    check_err(
        "echo \"[$(nosuch)]\"",
        "[]\n",
        "sh: nosuch: command not found\n",
        0,
    )?;
    // About 1 MiB: read while the child writes, no deadlock.
    check("x=$(seq 160000); echo ${#x}", "1008894\n", 0)?;
    Ok(())
}

/// `case`: patterns, alternatives, quoting, status.
pub fn case_command() -> TestResult {
    check(
        "x=apple; case $x in a*) echo m;; *) echo other;; esac",
        "m\n",
        0,
    )?;
    check("case b in a|b) echo ab;; esac; echo $?", "ab\n0\n", 0)?;
    check("false; case z in a) ;; esac; echo $?", "0\n", 0)?;
    check("case a in a) false;; esac; echo $?", "1\n", 0)?;
    check("case x in [xyz]) echo set; esac", "set\n", 0)?;
    check(
        "case 'a*' in \"a*\") echo lit;; esac; case ab in \"a*\") echo no;; *) echo yes;; esac",
        "lit\nyes\n",
        0,
    )?;
    check(
        "p='*.rs'; case main.rs in $p) echo rs;; esac; case $(echo hi) in h?) echo q;; esac",
        "rs\nq\n",
        0,
    )?;
    check("case a in\n  (a)\n    echo nl\n    ;;\nesac", "nl\n", 0)?;
    check_err(
        "case a in a) echo;; b esac",
        "",
        "sh: -c: line 1: syntax error: unexpected `esac`\n",
        2,
    )?;
    Ok(())
}

/// Functions: arguments set and restored, `return`, recursion and its
/// limit, `unset -f`.
pub fn functions() -> TestResult {
    check(
        "f() { echo fn $1 $#; }; f arg; f a b",
        "fn arg 1\nfn a 2\n",
        0,
    )?;
    check(
        "set -- x y; f() { echo \"$@\" ${3}; }; f 1 2 3; echo $1 $#",
        "1 2 3 3\nx 2\n",
        0,
    )?;
    check(
        "f() { return 3; echo no; }; f; echo $?; g() { false; return; }; g; echo $?",
        "3\n1\n",
        0,
    )?;
    check(
        "n=0; r() { n=$((n+1)); if [ $n -lt 50 ]; then r; fi; }; r; echo $n",
        "50\n",
        0,
    )?;
    check(
        "fact() { if [ $1 -le 1 ]; then echo 1; else echo $(( $1 * $(fact $(($1-1))) )); fi; }; fact 5",
        "120\n",
        0,
    )?;
    check_err(
        "r() { r; }; r; echo $?",
        "2\n",
        "sh: r: maximum function nesting level exceeded (100)\n",
        0,
    )?;
    check("f() ( echo sub ); f | cat", "sub\n", 0)?;
    check_err(
        "f() { :; }; unset -f f; f",
        "",
        "sh: f: command not found\n",
        127,
    )?;
    check_err(
        "return 1",
        "",
        "sh: return: can only `return' from a function or sourced script\n",
        1,
    )?;
    // Special built-ins come before functions; other built-ins after.
    check(
        "set() { echo fn; }; set -- a; echo $1; true() { echo mine; }; true",
        "a\nmine\n",
        0,
    )?;
    Ok(())
}

/// `type` and `command`.
pub fn type_and_command() -> TestResult {
    check(
        "f() { :; }; type echo ls f if set",
        "echo is a shell builtin\nls is /bin/ls\nf is a function\nif is a shell keyword\nset is a special shell builtin\n",
        0,
    )?;
    check_err("type nosuch", "", "sh: type: nosuch: not found\n", 1)?;
    check(
        "f() { :; }; command -v ls echo f; command -v nosuch; echo $?",
        "/bin/ls\necho\nf\n1\n",
        0,
    )?;
    check(
        "true() { echo fn; }; true; command true; echo $?",
        "fn\n0\n",
        0,
    )?;
    Ok(())
}

/// `exec`: the program runs in the shell's place (nothing after it runs;
/// its status is the shell's); one that cannot start leaves the shell
/// going with 127 or 126.
pub fn exec_builtin() -> TestResult {
    check("exec echo replaced; echo not reached", "replaced\n", 0)?;
    check("exec sh -c 'exit 7'; echo not reached", "", 7)?;
    check_err(
        "exec nosuch; echo $?",
        "127\n",
        "sh: exec: nosuch: not found\n",
        0,
    )?;
    check_err(
        "exec /tmp; echo $?",
        "126\n",
        "sh: exec: /tmp: not an executable\n",
        0,
    )?;
    check("exec; echo $?", "0\n", 0)?;
    Ok(())
}
