//! Random container names in docker's `adjective_surname` shape, from layerbox's own word lists
//! (surnames of people who shaped computing and operating systems).

use super::host::IdSource;

const ADJECTIVES: &[&str] = &[
    "agile", "amber", "bold", "brave", "bright", "calm", "candid", "cheerful", "clever", "cosy",
    "curious", "daring", "deft", "eager", "earnest", "fair", "fearless", "fond", "frank",
    "gallant", "gentle", "glad", "graceful", "hardy", "honest", "hopeful", "humble", "jolly",
    "keen", "kind", "lively", "loyal", "lucid", "merry", "mellow", "nimble", "noble", "patient",
    "placid", "plucky", "polite", "proud", "quick", "quiet", "radiant", "ready", "serene", "sharp",
    "sincere", "snug", "spry", "steady", "sturdy", "sunny", "swift", "tender", "tidy", "trusty",
    "upbeat", "valiant", "vivid", "warm", "witty", "zesty",
];

const SURNAMES: &[&str] = &[
    "allen",
    "babbage",
    "backus",
    "bartik",
    "berners_lee",
    "borg",
    "cerf",
    "conway",
    "corbato",
    "dijkstra",
    "engelbart",
    "estrin",
    "floyd",
    "goldberg",
    "hamilton",
    "hopper",
    "iverson",
    "kahn",
    "kay",
    "kernighan",
    "knuth",
    "lamport",
    "liskov",
    "lovelace",
    "mccarthy",
    "milner",
    "minsky",
    "naur",
    "neumann",
    "nygaard",
    "perlman",
    "pike",
    "postel",
    "ritchie",
    "shannon",
    "sammet",
    "sutherland",
    "tanenbaum",
    "thompson",
    "torvalds",
    "turing",
    "wheeler",
    "wilkes",
    "wirth",
    "wozniak",
];

/// A random `adjective_surname` name.
pub fn random_name(ids: &mut dyn IdSource) -> String {
    let adjective = ADJECTIVES[ids.below(ADJECTIVES.len())];
    let surname = SURNAMES[ids.below(SURNAMES.len())];
    format!("{adjective}_{surname}")
}

/// Whether `name` is a valid container name (docker's `[a-zA-Z0-9][a-zA-Z0-9_.-]+`).
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() >= 2
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

#[cfg(test)]
mod tests {
    use super::super::host::SeededIds;
    use super::*;

    #[test]
    fn names_have_dockers_shape() {
        let mut ids = SeededIds::new(1);
        for _ in 0..50 {
            let name = random_name(&mut ids);
            let (a, s) = name.split_once('_').unwrap();
            assert!(ADJECTIVES.contains(&a));
            assert!(SURNAMES.contains(&s));
            assert!(is_valid_name(&name));
        }
        assert!(is_valid_name("web"));
        assert!(!is_valid_name("-web"));
        assert!(!is_valid_name("w"));
        assert!(!is_valid_name("a b"));
    }
}
