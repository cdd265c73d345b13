//! What the engine takes from its host (the time and random numbers) and docker's default
//! container paths. Core has no clock and no randomness of its own, so tests are deterministic
//! and the browser supplies its own.

use serde::{Deserialize, Serialize};

use crate::cli::units::Timestamp;

/// Paths docker hides from a container: files get /dev/null on top, directories an empty
/// read-only tmpfs (moby `oci.DefaultSpec`, `MaskedPaths`). The Linux engine applies them; the
/// simulated one shows them in `inspect`'s `HostConfig` as docker 20.10 does (without powercap,
/// which later moby added and the Linux engine masks too).
pub const MASKED_PATHS: &[&str] = &[
    "/proc/asound",
    "/proc/acpi",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
];

/// Paths docker makes read-only (moby `oci.DefaultSpec`, `ReadonlyPaths`).
pub const READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// The current time.
pub trait Clock {
    /// Now.
    fn now(&self) -> Timestamp;
}

/// Random numbers, for container IDs and names.
pub trait IdSource {
    /// The next 64 random bits.
    fn next_u64(&mut self) -> u64;

    /// A docker-style 64-hex ID.
    fn hex_id(&mut self) -> String {
        let words = [
            self.next_u64(),
            self.next_u64(),
            self.next_u64(),
            self.next_u64(),
        ];
        format!(
            "{:016x}{:016x}{:016x}{:016x}",
            words[0], words[1], words[2], words[3]
        )
    }

    /// A number below `n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        let n = u64::try_from(n.max(1)).unwrap_or(u64::MAX);
        usize::try_from(self.next_u64() % n).unwrap_or(0)
    }
}

/// A clock that stands still until told to move (tests, replays).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixedClock(pub Timestamp);

impl Clock for FixedClock {
    fn now(&self) -> Timestamp {
        self.0
    }
}

/// A seeded pseudo-random source (SplitMix64): deterministic for a given seed, serialisable so
/// a saved engine continues the same sequence.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeededIds {
    state: u64,
}

impl SeededIds {
    /// A source starting from `seed`.
    pub const fn new(seed: u64) -> Self {
        Self { state: seed }
    }
}

impl IdSource for SeededIds {
    fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeded_ids_are_reproducible_hex() {
        let mut a = SeededIds::new(7);
        let mut b = SeededIds::new(7);
        let id = a.hex_id();
        assert_eq!(id, b.hex_id());
        assert_eq!(id.len(), 64);
        assert!(id.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a.hex_id(), id);
        assert!(a.below(3) < 3);
    }
}
