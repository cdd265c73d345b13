//! BuildKit's own Dockerfile vectors (see their README for the rules).
//!
//! They are read from the shared conformance folder beside the checkout
//! (`../shared/conformance/buildkit`) when it is there, so that updates flow in, and otherwise
//! from the byte-exact copy in `tests/data/buildkit`, so that a lone clone still runs them. When
//! both exist, [`the_copy_matches_the_shared_vectors`] says if the copy fell behind.

mod instructions;
mod parser;
mod shell;

use std::path::PathBuf;

/// The in-repo copy of the vectors.
fn copy_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/buildkit")
}

/// The shared conformance folder beside the checkout, if there is one.
fn shared_root() -> Option<PathBuf> {
    let dir =
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/buildkit");
    dir.join("README.md").is_file().then_some(dir)
}

/// Path of a vector file: in the shared folder when present, else in the copy.
pub fn data(path: &str) -> PathBuf {
    shared_root().unwrap_or_else(copy_root).join(path)
}

fn files_under(root: &std::path::Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_path_buf());
            }
        }
    }
    out.sort();
    out
}

#[test]
fn the_copy_matches_the_shared_vectors() {
    let Some(shared) = shared_root() else {
        println!("note: no ../shared/conformance/buildkit beside the checkout; using the copy");
        return;
    };
    let copy = copy_root();
    let names = files_under(&shared);
    assert_eq!(
        files_under(&copy),
        names,
        "the file lists differ: refresh tests/data/buildkit"
    );
    for name in &names {
        let a = std::fs::read(shared.join(name)).unwrap();
        let b = std::fs::read(copy.join(name)).unwrap();
        assert!(
            a == b,
            "{} differs from the shared vectors: refresh the copy",
            name.display()
        );
    }
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
