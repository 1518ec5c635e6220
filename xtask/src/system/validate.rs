//! Validation of a parsed `system.toml`: every program's fields, its
//! grants (I/O ports, IRQs, device memory, endpoints, authorities) checked
//! against the kernel's own and every other program's, the names programs
//! refer to, and dependency cycles. Every error is collected, each naming
//! its program, and a valid file becomes `sysconf`'s model.

use std::collections::{BTreeMap, BTreeSet};

use super::{AuthorityToml, PolicyToml, ProgramToml, SystemToml};

/// A closed range of some resource held by one program, for overlap checks.
struct Held {
    program: String,
    start: u64,
    end: u64,
}

/// Checks `parsed` and returns the encoder's model, or every error.
pub fn validate(parsed: &SystemToml) -> Result<sysconf::System, Vec<String>> {
    let mut errors = Vec::new();
    let mut err =
        |program: &str, what: String| errors.push(format!("program \"{program}\": {what}"));
    let names: BTreeSet<&str> = parsed.programs.iter().map(|p| p.name.as_str()).collect();
    let mut seen = BTreeSet::new();
    let mut ports: Vec<Held> = Vec::new();
    let mut memory: Vec<Held> = Vec::new();
    let mut irqs: BTreeMap<String, String> = BTreeMap::new();
    let mut servers: BTreeMap<&str, &str> = BTreeMap::new();
    let mut programs = Vec::new();
    for p in &parsed.programs {
        let name = p.name.as_str();
        if !sysconf::is_name(name) {
            err(
                name,
                "the name must be lowercase letters, digits and '-', starting with a letter".into(),
            );
        }
        if !seen.insert(name) {
            err(name, "the name is used by an earlier program too".into());
        }
        if !sysconf::is_initramfs_path(&p.path) {
            err(
                name,
                format!("path \"{}\" is not of the form bin/<name>", p.path),
            );
        }
        if p.priority > u32::from(sysconf::MAX_PRIORITY) {
            err(
                name,
                format!("priority {} is above {}", p.priority, sysconf::MAX_PRIORITY),
            );
        }
        if let Some(max) = p.max_priority
            && (max > u32::from(sysconf::MAX_PRIORITY) || max < p.priority)
        {
            err(
                name,
                format!(
                    "max_priority {max} is above {} or below priority {}",
                    sysconf::MAX_PRIORITY,
                    p.priority
                ),
            );
        }
        if p.budget_frames == 0 {
            err(name, "budget_frames is 0".into());
        }
        if let Some(least) = p.least_budget_frames
            && (least == 0 || least > p.budget_frames)
        {
            err(
                name,
                format!(
                    "least_budget_frames {least} is 0 or above budget_frames {}",
                    p.budget_frames
                ),
            );
        }
        let r = &p.restart;
        if r.backoff_initial_ms > r.backoff_max_ms {
            err(
                name,
                format!(
                    "restart.backoff_initial_ms {} exceeds restart.backoff_max_ms {}",
                    r.backoff_initial_ms, r.backoff_max_ms
                ),
            );
        }
        if r.give_up_after != 0 && r.give_up_window_ms == 0 {
            err(
                name,
                "restart.give_up_after needs a nonzero restart.give_up_window_ms".into(),
            );
        }
        let mut grants = Vec::new();
        for range in &p.io_ports {
            let shown = format!(
                "{:#x}..{:#x}",
                range.base,
                range.base.saturating_add(range.count)
            );
            let end = range.base.checked_add(range.count);
            if range.count == 0 {
                err(name, format!("I/O ports at {:#x}: count is 0", range.base));
                continue;
            }
            if end.is_none_or(|end| end > sysconf::IO_PORT_SPACE.into()) {
                err(name, format!("I/O ports {shown} go past 0xffff"));
                continue;
            }
            let (start, end) = (range.base, range.base + range.count);
            for (first, count) in abi::syscall::KERNEL_IO_PORTS {
                let (k_start, k_end) = (u64::from(first), u64::from(first) + u64::from(count));
                if start < k_end && k_start < end {
                    err(
                        name,
                        format!(
                            "I/O ports {shown} include the kernel's own {k_start:#x}..{k_end:#x}"
                        ),
                    );
                }
            }
            for held in &ports {
                if start < held.end && held.start < end {
                    err(
                        name,
                        format!(
                            "I/O ports {shown} overlap program \"{}\"'s {:#x}..{:#x}",
                            held.program, held.start, held.end
                        ),
                    );
                }
            }
            ports.push(Held {
                program: name.into(),
                start,
                end,
            });
            grants.push(sysconf::GrantSpec::IoPorts {
                base: start as u16,
                count: range.count as u32,
            });
        }
        for irq in &p.irqs {
            let (key, grant) = match (irq.isa, irq.gsi) {
                (Some(line), None) => {
                    if line > u64::from(sysconf::MAX_ISA_IRQ) {
                        err(
                            name,
                            format!("ISA IRQ {line} is above {}", sysconf::MAX_ISA_IRQ),
                        );
                        continue;
                    }
                    if irq.level || irq.active_low {
                        err(
                            name,
                            format!(
                                "ISA IRQ {line}: level and active_low are for GSIs (the MADT says for ISA IRQs)"
                            ),
                        );
                    }
                    if line == 0 || line == 2 {
                        err(
                            name,
                            format!("ISA IRQ {line} is the kernel's (timer, 8259 cascade)"),
                        );
                    }
                    (
                        format!("ISA IRQ {line}"),
                        sysconf::GrantSpec::IrqIsa(line as u8),
                    )
                }
                (None, Some(gsi)) => {
                    if gsi > u64::from(sysconf::MAX_GSI) {
                        err(name, format!("GSI {gsi} is above {}", sysconf::MAX_GSI));
                        continue;
                    }
                    let grant = sysconf::GrantSpec::IrqGsi {
                        gsi: gsi as u32,
                        level: irq.level,
                        active_low: irq.active_low,
                    };
                    (format!("GSI {gsi}"), grant)
                }
                _ => {
                    err(name, "an IRQ needs exactly one of isa or gsi".into());
                    continue;
                }
            };
            if let Some(other) = irqs.get(&key) {
                err(name, format!("{key} is granted to program \"{other}\" too"));
            } else {
                irqs.insert(key, name.into());
            }
            grants.push(grant);
        }
        for range in &p.device_memory {
            let bytes = range.pages.checked_mul(sysconf::PAGE_BYTES);
            let end = bytes.and_then(|b| range.phys.checked_add(b));
            let shown = format!("{:#x} ({} pages)", range.phys, range.pages);
            if range.pages == 0 {
                err(name, format!("device memory {shown}: no pages"));
                continue;
            }
            if range.phys % sysconf::PAGE_BYTES != 0 {
                err(name, format!("device memory {shown}: not page-aligned"));
                continue;
            }
            let (Some(end), Ok(pages)) = (end, u32::try_from(range.pages)) else {
                err(name, format!("device memory {shown}: the end overflows"));
                continue;
            };
            for held in &memory {
                if range.phys < held.end && held.start < end {
                    err(
                        name,
                        format!(
                            "device memory {:#x}..{end:#x} overlaps program \"{}\"'s {:#x}..{:#x}",
                            range.phys, held.program, held.start, held.end
                        ),
                    );
                }
            }
            memory.push(Held {
                program: name.into(),
                start: range.phys,
                end,
            });
            grants.push(sysconf::GrantSpec::DeviceMemory {
                phys: range.phys,
                pages,
            });
        }
        for endpoint in &p.serves {
            if !sysconf::is_name(endpoint) {
                err(
                    name,
                    format!(
                        "endpoint name \"{endpoint}\" must be lowercase letters, digits and '-'"
                    ),
                );
            }
            if let Some(other) = servers.get(endpoint.as_str()) {
                err(
                    name,
                    format!("endpoint \"{endpoint}\" is served by program \"{other}\" too"),
                );
                continue;
            }
            servers.insert(endpoint.as_str(), name);
            grants.push(sysconf::GrantSpec::Serves(endpoint.clone()));
        }
        let mut authorities = BTreeSet::new();
        for &AuthorityToml(authority) in &p.authority {
            if authorities.insert(authority) {
                grants.push(sysconf::GrantSpec::Authority(authority));
            } else {
                err(name, format!("authority \"{authority}\" is listed twice"));
            }
        }
        let restart = sysconf::RestartPolicy {
            kind: match r.policy {
                PolicyToml::Never => sysconf::RestartKind::Never,
                PolicyToml::OnFailure => sysconf::RestartKind::OnFailure,
                PolicyToml::Always => sysconf::RestartKind::Always,
            },
            backoff_initial_ms: r.backoff_initial_ms,
            backoff_max_ms: r.backoff_max_ms,
            min_run_ms: r.min_run_ms,
            give_up_failures: r.give_up_after,
            give_up_window_ms: r.give_up_window_ms,
        };
        programs.push(sysconf::ProgramSpec {
            name: p.name.clone(),
            path: p.path.clone(),
            priority: p.priority.min(u32::from(sysconf::MAX_PRIORITY)) as u8,
            max_priority: p
                .max_priority
                .unwrap_or(0)
                .min(u32::from(sysconf::MAX_PRIORITY)) as u8,
            budget_frames: p.budget_frames,
            least_budget_frames: p.least_budget_frames.unwrap_or(p.budget_frames),
            restart,
            debug: p.debug,
            args: p.args.clone(),
            grants,
            depends_on: p.depends_on.clone(),
        });
    }
    // Names that refer to other entries, once every server is known.
    for (p, spec) in parsed.programs.iter().zip(&mut programs) {
        let name = p.name.as_str();
        for endpoint in &p.client_of {
            match servers.get(endpoint.as_str()) {
                None => err(
                    name,
                    format!("client of endpoint \"{endpoint}\", which no program serves"),
                ),
                Some(server) if *server == name => err(
                    name,
                    format!("client of endpoint \"{endpoint}\", which it serves itself"),
                ),
                Some(_) => spec
                    .grants
                    .push(sysconf::GrantSpec::ClientOf(endpoint.clone())),
            }
        }
        for dep in &p.depends_on {
            if !names.contains(dep.as_str()) {
                err(
                    name,
                    format!("depends_on names \"{dep}\", which is no program"),
                );
            }
        }
    }
    if let Some(cycle) = find_cycle(&parsed.programs) {
        err(
            &cycle[0],
            format!("dependency cycle: {}", cycle.join(" -> ")),
        );
    }
    if errors.is_empty() {
        Ok(sysconf::System {
            aslr: parsed.system.aslr,
            programs,
        })
    } else {
        Err(errors)
    }
}

/// A dependency cycle, as the names along it with the first repeated at
/// the end, or `None`. Unknown names are reported elsewhere and skipped.
fn find_cycle(programs: &[ProgramToml]) -> Option<Vec<String>> {
    let index: BTreeMap<&str, usize> = programs
        .iter()
        .enumerate()
        .map(|(i, p)| (p.name.as_str(), i))
        .collect();
    // 0 unvisited, 1 on the current path, 2 done.
    let mut state = vec![0u8; programs.len()];
    let mut path = Vec::new();
    fn visit(
        i: usize,
        programs: &[ProgramToml],
        index: &BTreeMap<&str, usize>,
        state: &mut [u8],
        path: &mut Vec<usize>,
    ) -> Option<Vec<String>> {
        state[i] = 1;
        path.push(i);
        for dep in &programs[i].depends_on {
            let Some(&j) = index.get(dep.as_str()) else {
                continue;
            };
            if state[j] == 1 {
                let from = path.iter().position(|&k| k == j).unwrap_or(0);
                let mut cycle: Vec<String> = path[from..]
                    .iter()
                    .map(|&k| programs[k].name.clone())
                    .collect();
                cycle.push(programs[j].name.clone());
                return Some(cycle);
            }
            if state[j] == 0
                && let Some(cycle) = visit(j, programs, index, state, path)
            {
                return Some(cycle);
            }
        }
        path.pop();
        state[i] = 2;
        None
    }
    (0..programs.len()).find_map(|i| {
        if state[i] == 0 {
            visit(i, programs, &index, &mut state, &mut path)
        } else {
            None
        }
    })
}
