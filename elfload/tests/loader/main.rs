//! Host tests of `elfload`, through its public API only: one test per
//! error (`errors`), plans of good files (`plans`), the stack and TLS
//! writers (`stack`, `tls`), section lookup (`sections`), property tests
//! (`props`) and real binaries built by the host's gcc (`real`).
//!
//! `builder` crafts files field by field and `invariants` states what every
//! returned image promises; the fuzz target (`elfload/fuzz`) includes both.

mod builder;
mod errors;
mod invariants;
mod plans;
mod props;
mod real;
mod sections;
mod stack;
mod tls;
