//! layerbox's own command on the Linux engine: `system check [--repair]`.

use std::io;

use super::{Linux, store_error};
use crate::store::ProblemKind;

/// `system check [--repair]`: what a crash left in the store; exit 1 when something is wrong
/// and was not repaired.
pub(super) fn check(linux: &Linux, args: &[&str]) -> io::Result<u8> {
    let repair = args.contains(&"--repair");
    let report = linux.store.check(repair).map_err(store_error)?;
    if report.is_clean() {
        println!("store {}: clean", linux.store.root().display());
        return Ok(0);
    }
    for p in &report.problems {
        let what = match p.kind {
            ProblemKind::TempEntry => "temporary entry",
            ProblemKind::CorruptBlob => "corrupt blob",
            ProblemKind::BadRecord => "unreadable record",
            ProblemKind::HalfImage => "incomplete image",
            ProblemKind::OrphanContainerDir => "container directory without a record",
            ProblemKind::LeakedMount => "leaked mount",
            ProblemKind::ShimDied => "running container whose shim died",
        };
        let done = if p.repaired { " (repaired)" } else { "" };
        println!("{what}: {}{done}", p.path.display());
    }
    Ok(u8::from(report.problems.iter().any(|p| !p.repaired)))
}
