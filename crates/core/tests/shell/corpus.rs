//! The shell corpus: RUN lines and the tree they start from, read from `tests/data/shell`.
//! Shared with the `layerbox` crate's differential test through `#[path]`.

use layerbox_core::fs::{Entry, Layer, Meta};

/// The corpus directory.
pub fn data_dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/data/shell")
        .canonicalize()
        .unwrap()
}

/// The starting tree as a layer (root-owned, time 0).
pub fn base_tree() -> Layer {
    let text = std::fs::read_to_string(data_dir().join("base_tree.txt")).unwrap();
    let mut layer = Layer::new();
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let mut parts = line.splitn(4, ' ');
        let (kind, path) = (parts.next().unwrap(), parts.next().unwrap());
        let path = path.trim_start_matches('/').to_owned();
        match kind {
            "d" => {
                let mode = u32::from_str_radix(parts.next().unwrap(), 8).unwrap();
                layer.insert(path, Entry::dir(Meta::new(mode, 0)));
            }
            "f" => {
                let mode = u32::from_str_radix(parts.next().unwrap(), 8).unwrap();
                let content = parts.next().unwrap_or_default().replace("\\n", "\n");
                layer.insert(path, Entry::file(Meta::new(mode, 0), content));
            }
            "l" => {
                let target = parts.next().unwrap();
                layer.insert(path, Entry::symlink(Meta::new(0o777, 0), target));
            }
            other => panic!("base_tree.txt: unknown kind {other}"),
        }
    }
    layer
}

/// The RUN lines: `(simulator only, script)`.
pub fn run_lines() -> Vec<(bool, String)> {
    let text = std::fs::read_to_string(data_dir().join("run_lines.txt")).unwrap();
    text.lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| match l.strip_prefix("[sim] ") {
            Some(rest) => (true, rest.replace("<NL>", "\n")),
            None => (false, l.replace("<NL>", "\n")),
        })
        .collect()
}
