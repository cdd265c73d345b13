//! BuildKit's own Dockerfile vectors (`tests/data/buildkit`, see its README for the rules).

mod instructions;
mod parser;
mod shell;

use std::path::PathBuf;

/// Path of a file under `tests/data/buildkit`.
pub fn data(path: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/buildkit")
        .join(path)
}

/// Reads a vector file as UTF-8.
pub fn read(path: &str) -> String {
    std::fs::read_to_string(data(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// Reads a `derived/*.json` file.
pub fn json(name: &str) -> serde_json::Value {
    serde_json::from_str(&read(&format!("derived/{name}")))
        .unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A JSON array of strings as a Vec.
pub fn strings(v: &serde_json::Value) -> Vec<String> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
        .map(|s| {
            s.as_str()
                .unwrap_or_else(|| panic!("not a string: {s}"))
                .to_string()
        })
        .collect()
}
