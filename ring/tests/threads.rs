//! A client and a server on two threads, sleeping on a condition
//! variable when idle: many round trips and batches, every answer once
//! and in order.

mod common;

use std::sync::Arc;
use std::thread;

use common::{CondvarWaker, RULES};
use ring::{AtomicMemory, Client, Completion, Error, Geometry, Layout, Server, Sqe};

fn run(geometry: Geometry, requests: u64, batch: u64) {
    let layout = Layout::new(geometry).unwrap();
    let memory = Arc::new(AtomicMemory::new(layout.total_bytes));
    let waker = Arc::new(CondvarWaker::default());
    let mut client = Client::create(Arc::clone(&memory), Arc::clone(&waker), geometry).unwrap();
    let server_memory = Arc::clone(&memory);
    let server_waker = Arc::clone(&waker);
    let server = thread::spawn(move || {
        let mut server = Server::attach(server_memory, server_waker, geometry, RULES).unwrap();
        while server.served() < requests {
            server
                .step(None, |request| {
                    let mut bytes = [0u8; 8];
                    let n = request.read(0, &mut bytes);
                    Completion {
                        status: 0,
                        value: request.sqe.user_data as u32 + bytes[..n].len() as u32,
                    }
                })
                .unwrap();
        }
        server.wakes()
    });
    let (mut sent, mut received) = (0u64, 0u64);
    client.write_data(0, &[7; 8]).unwrap();
    while received < requests {
        let mut pushed = 0;
        while sent < requests && pushed < batch {
            let sqe = Sqe {
                opcode: 1,
                len: 8,
                user_data: sent,
                ..Sqe::default()
            };
            match client.push(&sqe) {
                Ok(()) => {
                    sent += 1;
                    pushed += 1;
                }
                Err(Error::Full) => break,
                Err(e) => panic!("{e}"),
            }
        }
        client.submit().unwrap();
        client.wait(None).unwrap();
        while let Some(cqe) = client.pop().unwrap() {
            assert_eq!(cqe.user_data, received);
            assert_eq!(cqe.value, received as u32 + 8);
            received += 1;
        }
        client.release().unwrap();
    }
    let server_wakes = server.join().unwrap();
    // Every wake either side made is at most one per batch it published.
    assert!(client.wakes() <= requests);
    assert!(server_wakes <= requests);
}

#[test]
fn one_at_a_time() {
    let geometry = Geometry {
        sq_entries: 1,
        cq_entries: 1,
        data_bytes: 8,
    };
    run(geometry, 2000, 1);
}

#[test]
fn batches() {
    let geometry = Geometry {
        sq_entries: 8,
        cq_entries: 16,
        data_bytes: 64,
    };
    run(geometry, 20_000, 13);
}

#[test]
fn a_small_sq_behind_a_large_cq() {
    let geometry = Geometry {
        sq_entries: 2,
        cq_entries: 32,
        data_bytes: 8,
    };
    run(geometry, 5000, 32);
}

/// As [`run`], woken the doorbell's way (`ring::doorbell`): every other
/// batch with `submit_and_wait` (one call), the others submitted with a
/// signal and then waited for with a call; the server stopped by a flag
/// and a signal.
fn run_by_calls(geometry: Geometry, requests: u64, batch: u64) {
    use common::{ClientBell, Doorbell, ServerBell};
    use std::sync::atomic::{AtomicBool, Ordering};
    let layout = Layout::new(geometry).unwrap();
    let memory = Arc::new(AtomicMemory::new(layout.total_bytes));
    let bell = Arc::new(Doorbell::default());
    let stop = Arc::new(AtomicBool::new(false));
    let mut client =
        Client::create(Arc::clone(&memory), ClientBell(Arc::clone(&bell)), geometry).unwrap();
    let (server_memory, server_bell, server_stop) =
        (Arc::clone(&memory), Arc::clone(&bell), Arc::clone(&stop));
    let server = thread::spawn(move || {
        let waker = ServerBell {
            bell: server_bell,
            owes: std::cell::Cell::new(None),
        };
        let mut server = Server::attach(server_memory, waker, geometry, RULES).unwrap();
        while !server_stop.load(Ordering::Acquire) {
            server
                .step(None, |request| Completion {
                    status: 0,
                    value: request.sqe.user_data as u32,
                })
                .unwrap();
        }
        server.served()
    });
    let (mut sent, mut received, mut round) = (0u64, 0u64, 0u64);
    while received < requests {
        let mut pushed = 0;
        while sent < requests && pushed < batch {
            let sqe = Sqe {
                opcode: 1,
                user_data: sent,
                ..Sqe::default()
            };
            match client.push(&sqe) {
                Ok(()) => {
                    sent += 1;
                    pushed += 1;
                }
                Err(Error::Full) => break,
                Err(e) => panic!("{e}"),
            }
        }
        round += 1;
        if round % 2 == 0 {
            client.submit_and_wait(None).unwrap();
        } else {
            client.submit().unwrap();
            client.wait(None).unwrap();
        }
        while let Some(cqe) = client.pop().unwrap() {
            assert_eq!(cqe.user_data, received);
            assert_eq!(cqe.value, received as u32);
            received += 1;
        }
        client.release().unwrap();
    }
    stop.store(true, Ordering::Release);
    ring::Waker::<AtomicMemory>::wake(&ClientBell(bell), &memory, 0);
    assert_eq!(server.join().unwrap(), requests);
}

#[test]
fn by_calls_one_at_a_time() {
    let geometry = Geometry {
        sq_entries: 1,
        cq_entries: 1,
        data_bytes: 8,
    };
    run_by_calls(geometry, 2000, 1);
}

#[test]
fn by_calls_batches() {
    let geometry = Geometry {
        sq_entries: 8,
        cq_entries: 16,
        data_bytes: 64,
    };
    run_by_calls(geometry, 20_000, 13);
}
