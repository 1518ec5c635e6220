//! The process table against a model that states the rules the plainest
//! way (a list of records, searched every time), under random sequences
//! of adds, ends and waits.

use std::collections::BTreeMap;

use procore::{INIT, Limits, Pid, ProcError, State, Table, Which};
use proptest::prelude::*;

#[derive(Clone, Debug, PartialEq)]
struct Record {
    parent: Pid,
    session: Pid,
    ended: Option<u32>,
}

#[derive(Default)]
struct Model {
    records: BTreeMap<Pid, Record>,
    next: u32,
}

impl Model {
    fn children(&self, parent: Pid) -> Vec<Pid> {
        self.records
            .iter()
            .filter(|(_, r)| r.parent == parent)
            .map(|(&pid, _)| pid)
            .collect()
    }

    fn add(&mut self, parent: Option<Pid>, limits: Limits) -> Result<Pid, ProcError> {
        let session = match parent {
            Some(p) => {
                let record = self.records.get(&p).ok_or(ProcError::NoSuchProcess)?;
                if record.ended.is_some() {
                    return Err(ProcError::NotRunning);
                }
                Some(record.session)
            }
            None => None,
        };
        if self.records.len() >= limits.total {
            return Err(ProcError::TableFull);
        }
        if let Some(session) = session {
            let count = self
                .records
                .values()
                .filter(|r| r.session == session)
                .count();
            if count >= limits.per_session {
                return Err(ProcError::SessionFull);
            }
        }
        let pid = Pid(self.next);
        self.next += 1;
        self.records.insert(
            pid,
            Record {
                parent: parent.unwrap_or(INIT),
                session: session.unwrap_or(pid),
                ended: None,
            },
        );
        Ok(pid)
    }

    fn end(&mut self, pid: Pid, status: u32) -> Result<(bool, Vec<Pid>, Vec<Pid>), ProcError> {
        let record = self.records.get(&pid).ok_or(ProcError::NoSuchProcess)?;
        if record.ended.is_some() {
            return Err(ProcError::NotRunning);
        }
        let parent = record.parent;
        let (mut orphaned, mut reaped) = (Vec::new(), Vec::new());
        for child in self.children(pid) {
            if self.records[&child].ended.is_some() {
                self.records.remove(&child);
                reaped.push(child);
            } else {
                self.records.get_mut(&child).unwrap().parent = INIT;
                orphaned.push(child);
            }
        }
        if parent == INIT {
            self.records.remove(&pid);
        } else {
            self.records.get_mut(&pid).unwrap().ended = Some(status);
        }
        Ok((parent == INIT, orphaned, reaped))
    }

    fn wait(&mut self, parent: Pid, which: Which) -> Result<Option<(Pid, u32)>, ProcError> {
        if !self.records.contains_key(&parent) {
            return Err(ProcError::NoSuchProcess);
        }
        let children = self.children(parent);
        let candidates = match which {
            Which::Child(child) => {
                if !children.contains(&child) {
                    return Err(if self.records.contains_key(&child) {
                        ProcError::NotChild
                    } else {
                        ProcError::NoSuchProcess
                    });
                }
                vec![child]
            }
            Which::Any => {
                if children.is_empty() {
                    return Err(ProcError::NoChildren);
                }
                children
            }
        };
        let found = candidates
            .into_iter()
            .find_map(|c| self.records[&c].ended.map(|status| (c, status)));
        if let Some((child, _)) = found {
            self.records.remove(&child);
        }
        Ok(found)
    }
}

#[derive(Clone, Debug)]
enum Op {
    AddRoot,
    AddChild(prop::sample::Index),
    End(prop::sample::Index, u32),
    WaitOne(prop::sample::Index, prop::sample::Index),
    WaitAny(prop::sample::Index),
    /// An id that was never handed out, or was reaped.
    Stale(u32),
}

fn op() -> impl Strategy<Value = Op> {
    let index = any::<prop::sample::Index>;
    prop_oneof![
        1 => Just(Op::AddRoot),
        6 => index().prop_map(Op::AddChild),
        4 => (index(), 0u32..4).prop_map(|(i, s)| Op::End(i, s)),
        3 => (index(), index()).prop_map(|(a, b)| Op::WaitOne(a, b)),
        3 => index().prop_map(Op::WaitAny),
        1 => (0u32..200).prop_map(Op::Stale),
    ]
}

fn check(table: &Table<u32>, model: &Model) -> Result<(), TestCaseError> {
    prop_assert_eq!(table.len(), model.records.len());
    for (pid, record) in &model.records {
        let entry = table.get(*pid);
        prop_assert!(entry.is_some(), "{} missing", pid);
        let entry = entry.unwrap();
        prop_assert_eq!(entry.parent, record.parent, "parent of {}", pid);
        prop_assert_eq!(entry.session, record.session, "session of {}", pid);
        let state = record.ended.map_or(State::Running, State::Ended);
        prop_assert_eq!(&entry.state, &state, "state of {}", pid);
        let children: Vec<Pid> = entry.children().collect();
        prop_assert_eq!(children, model.children(*pid), "children of {}", pid);
        let in_session = model
            .records
            .values()
            .filter(|r| r.session == record.session)
            .count();
        prop_assert_eq!(table.session_len(record.session), in_session);
        // Only a process whose parent is a live process waits as ended.
        if record.ended.is_some() {
            prop_assert!(record.parent != INIT);
            prop_assert!(model.records[&record.parent].ended.is_none());
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn matches_the_model(
        ops in proptest::collection::vec(op(), 1..120),
        total in 1usize..40,
        per_session in 1usize..20,
    ) {
        let limits = Limits { total, per_session };
        let mut table: Table<u32> = Table::new(limits);
        let mut model = Model { next: 2, ..Model::default() };
        for op in ops {
            let live: Vec<Pid> = model.records.keys().copied().collect();
            match op {
                Op::AddRoot => prop_assert_eq!(table.add(None), model.add(None, limits)),
                Op::AddChild(i) if !live.is_empty() => {
                    let parent = *i.get(&live);
                    prop_assert_eq!(table.add(Some(parent)), model.add(Some(parent), limits));
                }
                Op::End(i, status) if !live.is_empty() => {
                    let pid = *i.get(&live);
                    let got = table.end(pid, status).map(|e| (e.reaped, e.orphaned, e.reaped_children));
                    prop_assert_eq!(got, model.end(pid, status));
                }
                Op::WaitOne(a, b) if !live.is_empty() => {
                    let (parent, child) = (*a.get(&live), *b.get(&live));
                    let which = Which::Child(child);
                    prop_assert_eq!(table.wait(parent, which), model.wait(parent, which));
                }
                Op::WaitAny(i) if !live.is_empty() => {
                    let parent = *i.get(&live);
                    prop_assert_eq!(table.wait(parent, Which::Any), model.wait(parent, Which::Any));
                }
                Op::Stale(n) => {
                    let pid = Pid(n);
                    if !model.records.contains_key(&pid) {
                        prop_assert_eq!(table.end(pid, 0), Err(ProcError::NoSuchProcess));
                        prop_assert_eq!(table.add(Some(pid)), Err(ProcError::NoSuchProcess));
                        prop_assert_eq!(table.wait(pid, Which::Any), Err(ProcError::NoSuchProcess));
                    }
                }
                _ => {}
            }
            check(&table, &model)?;
        }
    }
}

/// The first child of `parent`, or `parent` itself.
fn c0(table: &Table<u32>, parent: Pid) -> Pid {
    table
        .get(parent)
        .and_then(|e| e.children().next())
        .unwrap_or(parent)
}

#[test]
fn a_small_story() {
    let mut table: Table<u32> = Table::new(Limits {
        total: 10,
        per_session: 10,
    });
    let shell = table.add(None).unwrap();
    let a = table.add(Some(shell)).unwrap();
    let b = table.add(Some(a)).unwrap();
    assert_eq!(table.wait(shell, Which::Any), Ok(None));
    assert_eq!(table.wait(shell, Which::Child(b)), Err(ProcError::NotChild));
    // a ends: b is orphaned, a waits for the shell.
    let ended = table.end(a, 3).unwrap();
    assert_eq!(ended.orphaned, vec![b]);
    assert!(!ended.reaped);
    assert_eq!(table.get(b).unwrap().parent, INIT);
    assert_eq!(table.end(a, 4), Err(ProcError::NotRunning));
    assert_eq!(table.wait(shell, Which::Any), Ok(Some((a, 3))));
    assert_eq!(table.wait(shell, Which::Any), Err(ProcError::NoChildren));
    assert_eq!(
        table.wait(shell, Which::Child(a)),
        Err(ProcError::NoSuchProcess)
    );
    // A process that never ran can be taken back, once.
    let c = table.add(Some(shell)).unwrap();
    assert_eq!(table.cancel(c), Ok(()));
    assert_eq!(table.cancel(c), Err(ProcError::NoSuchProcess));
    let d = table.add(Some(c0(&table, shell))).unwrap();
    assert_eq!(
        table.cancel(table.get(d).unwrap().parent),
        Err(ProcError::NotRunning)
    );
    assert_eq!(table.cancel(d), Ok(()));
    // The orphan is reaped by init the moment it ends.
    let ended = table.end(b, 0).unwrap();
    assert!(ended.reaped);
    assert!(table.get(b).is_none());
    assert_eq!(table.len(), 1);
    assert_eq!(table.session_len(shell), 1);
}
