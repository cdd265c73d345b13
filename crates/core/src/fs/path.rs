//! Paths inside the simulated root: no leading slash, components joined by `/`, the root is `""`.
//!
//! Keys of this shape sort so that a directory comes right before its descendants and all of
//! them form one contiguous range, which is what lets the layer maps list a directory cheaply.

use std::borrow::Borrow;
use std::cmp::Ordering;
use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

use ref_cast::RefCast;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Compares two paths as their bytes compare (`str`'s order), eight bytes at a time: a layer's
/// paths share long prefixes (`usr/share/doc/…`), and in the browser `memcmp` compares byte by
/// byte (it was a fifth of a first build there).
pub(crate) fn compare(left: &str, right: &str) -> Ordering {
    let (left, right) = (left.as_bytes(), right.as_bytes());
    let common = left.len().min(right.len());
    let mut at = 0;
    while at + 8 <= common {
        let (mut l, mut r) = ([0u8; 8], [0u8; 8]);
        l.copy_from_slice(&left[at..at + 8]);
        r.copy_from_slice(&right[at..at + 8]);
        let diff = u64::from_le_bytes(l) ^ u64::from_le_bytes(r);
        if diff != 0 {
            // Loaded little-endian, the lowest set bit of the difference is in the first byte
            // that differs.
            let first = at + diff.trailing_zeros() as usize / 8;
            return left[first].cmp(&right[first]);
        }
        at += 8;
    }
    while at < common {
        if left[at] != right[at] {
            return left[at].cmp(&right[at]);
        }
        at += 1;
    }
    left.len().cmp(&right.len())
}

/// A path as a layer's key: shared with the index of every stack the layer is pushed on
/// (`Arc<str>`), ordered as `str` is but by [`compare`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct PathKey(pub(crate) Arc<str>);

/// A borrowed path to look a [`PathKey`] up with, in the same order.
#[derive(Debug, PartialEq, Eq, Hash, RefCast)]
#[repr(transparent)]
pub(crate) struct PathStr(str);

impl PathStr {
    pub(crate) fn new(path: &str) -> &Self {
        Self::ref_cast(path)
    }
}

impl Ord for PathStr {
    fn cmp(&self, other: &Self) -> Ordering {
        compare(&self.0, &other.0)
    }
}

impl PartialOrd for PathStr {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PathKey {
    fn cmp(&self, other: &Self) -> Ordering {
        compare(&self.0, &other.0)
    }
}

impl PartialOrd for PathKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Borrow<PathStr> for PathKey {
    fn borrow(&self) -> &PathStr {
        PathStr::new(&self.0)
    }
}

impl From<&str> for PathKey {
    fn from(path: &str) -> Self {
        Self(Arc::from(path))
    }
}

impl From<&String> for PathKey {
    fn from(path: &String) -> Self {
        Self(Arc::from(path.as_str()))
    }
}

impl Serialize for PathKey {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for PathKey {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Arc::<str>::deserialize(d).map(Self)
    }
}

/// `/a/./b/../c/` → `/a/c`: `.` and `..` resolved lexically, as the kernel resolves a path
/// without symlinks (`..` at the root stays at the root).
pub(crate) fn clean_abs(path: &str) -> String {
    let mut parts: Vec<&str> = Vec::new();
    for c in path.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            c => parts.push(c),
        }
    }
    format!("/{}", parts.join("/"))
}

/// `a/b` + `c` → `a/b/c`; the root joins to the bare name.
/// A member name made relative and clean like Go's `filepath.Clean` below a root (`./a//b` is
/// `a/b`); `None` when `..` would climb out of the root.
pub(crate) fn clean_below_root(name: &str) -> Option<String> {
    let mut parts: Vec<&str> = Vec::new();
    for c in name.split('/') {
        match c {
            "" | "." => {}
            ".." => {
                parts.pop()?;
            }
            c => parts.push(c),
        }
    }
    Some(parts.join("/"))
}

pub(crate) fn join(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_owned()
    } else {
        let mut out = String::with_capacity(dir.len() + 1 + name.len());
        out.push_str(dir);
        out.push('/');
        out.push_str(name);
        out
    }
}

/// The parent of a non-root path (`a/b` → `a`, `a` → the root).
pub(crate) fn parent(path: &str) -> &str {
    path.rfind('/').map_or("", |i| &path[..i])
}

/// The last component (`a/b` → `b`).
pub(crate) fn file_name(path: &str) -> &str {
    path.rfind('/').map_or(path, |i| &path[i + 1..])
}

/// Whether `path` lies strictly below `dir`.
pub(crate) fn is_under(path: &str, dir: &str) -> bool {
    if dir.is_empty() {
        !path.is_empty()
    } else {
        path.len() > dir.len() && path.starts_with(dir) && path.as_bytes()[dir.len()] == b'/'
    }
}

/// The proper ancestors of `path`, root excluded, outermost first (`a/b/c` → `a`, `a/b`).
pub(crate) fn ancestors(path: &str) -> impl Iterator<Item = &str> {
    path.match_indices('/').map(move |(i, _)| &path[..i])
}

/// The absolute form shown to people (`etc/passwd` → `/etc/passwd`).
pub(crate) fn display(path: &str) -> String {
    format!("/{path}")
}

/// The keys strictly below `dir` in a path-keyed map, in order.
pub(crate) fn descendants<'a, V>(
    map: &'a BTreeMap<PathKey, V>,
    dir: &str,
) -> impl Iterator<Item = (&'a PathKey, &'a V)> {
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let dir_is_root = dir.is_empty();
    map.range::<PathStr, _>((Bound::Included(PathStr::new(&prefix)), Bound::Unbounded))
        .skip_while(move |(k, _)| dir_is_root && k.0.is_empty())
        .take_while(move |(k, _)| k.0.starts_with(&prefix))
}

/// The direct children of `dir` in a path-keyed map: `(name, value)` in name order. Skips each
/// child's subtree with one seek, so the cost is in the number of children, not descendants.
pub(crate) fn children<'a, V>(map: &'a BTreeMap<PathKey, V>, dir: &str) -> Vec<(&'a str, &'a V)> {
    let prefix = if dir.is_empty() {
        String::new()
    } else {
        format!("{dir}/")
    };
    let mut out = Vec::new();
    let mut from = prefix.clone();
    loop {
        let mut range =
            map.range::<PathStr, _>((Bound::Included(PathStr::new(&from)), Bound::Unbounded));
        let Some((key, value)) = range.find(|(k, _)| !k.0.is_empty() || !dir.is_empty()) else {
            break;
        };
        let key: &str = &key.0;
        let Some(rest) = key.strip_prefix(prefix.as_str()) else {
            break;
        };
        if rest.is_empty() {
            // `prefix` itself cannot be a key (keys never end in `/`); be safe anyway.
            from = format!("{key}\0");
            continue;
        }
        let name = rest.split('/').next().unwrap_or(rest);
        let child_key = &key[..prefix.len() + name.len()];
        if rest.len() == name.len() {
            out.push((name, value));
            from = format!("{key}\0");
        } else {
            // `0` is the byte after `/`: jump past `child/…`.
            from = format!("{child_key}0");
        }
    }
    out
}

/// The direct children of `dir` in a sorted slice of path-keyed pairs, in name order. Skips
/// each child's subtree with one binary search, as [`children`] does in a map.
pub(crate) fn sorted_children<'a, K: Borrow<str>, V>(
    entries: &'a [(K, V)],
    dir: &str,
) -> Vec<&'a str> {
    let key_of = |i: usize| -> &'a str { entries[i].0.borrow() };
    let prefix_len = if dir.is_empty() { 0 } else { dir.len() + 1 };
    let at_or_after = |from: usize, target: &[&[u8]]| -> usize {
        // First index at or after `from` whose key is not below the concatenation `target`.
        from + entries[from..].partition_point(|(k, _)| {
            let k: &str = k.borrow();
            let joined = target.iter().flat_map(|t| t.iter().copied());
            k.bytes().lt(joined)
        })
    };
    let mut i = if dir.is_empty() {
        0
    } else {
        at_or_after(0, &[dir.as_bytes(), b"/"])
    };
    let mut out = Vec::new();
    while i < entries.len() {
        let key = key_of(i);
        if key.is_empty() {
            i += 1;
            continue;
        }
        if prefix_len > 0 && !(key.starts_with(dir) && key.as_bytes().get(dir.len()) == Some(&b'/'))
        {
            break;
        }
        let rest = &key[prefix_len..];
        if rest.is_empty() {
            i += 1;
            continue;
        }
        let name = rest.split('/').next().unwrap_or(rest);
        if rest.len() == name.len() {
            out.push(name);
            i += 1;
        } else {
            // `0` is the byte after `/`: jump past `child/…`.
            let child_key = &key[..prefix_len + name.len()];
            i = at_or_after(i, &[child_key.as_bytes(), b"0"]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_helpers() {
        assert_eq!(join("", "a"), "a");
        assert_eq!(join("a", "b"), "a/b");
        assert_eq!(parent("a/b/c"), "a/b");
        assert_eq!(parent("a"), "");
        assert_eq!(file_name("a/b"), "b");
        assert!(is_under("a/b", "a"));
        assert!(!is_under("ab", "a"));
        assert!(!is_under("a", "a"));
        assert!(is_under("a", ""));
        assert_eq!(ancestors("a/b/c").collect::<Vec<_>>(), ["a", "a/b"]);
        assert_eq!(display("etc"), "/etc");
    }

    #[test]
    fn children_skip_subtrees_and_neighbours() {
        let map: BTreeMap<PathKey, u8> =
            ["", "a", "a-b", "a.x", "a/b", "a/b/c", "a/b0", "a/c", "b"]
                .iter()
                .map(|k| (PathKey::from(*k), 0))
                .collect();
        let names = |d| {
            children(&map, d)
                .into_iter()
                .map(|(n, _)| n)
                .collect::<Vec<_>>()
        };
        assert_eq!(names(""), ["a", "a-b", "a.x", "b"]);
        assert_eq!(names("a"), ["b", "b0", "c"]);
        assert_eq!(names("a/b"), ["c"]);
        assert!(names("b").is_empty());
        let below_a: Vec<&str> = descendants(&map, "a").map(|(k, _)| &*k.0).collect();
        assert_eq!(below_a, ["a/b", "a/b/c", "a/b0", "a/c"]);
        assert_eq!(descendants(&map, "").count(), 8);
        let sorted: Vec<(&str, u8)> = map.iter().map(|(k, v)| (&*k.0, *v)).collect();
        for dir in ["", "a", "a/b", "b", "a-b", "zz"] {
            assert_eq!(sorted_children(&sorted, dir), names(dir), "{dir}");
        }
    }

    #[test]
    fn paths_compare_as_their_bytes() {
        let words = [
            "",
            "a",
            "a/",
            "a-b",
            "a/b",
            "usr/share/doc/libc6",
            "usr/share/doc/libc6/copyright",
            "usr/share/doc/libc-bin",
            "usr/share/doc/libc6-dev",
            "usr/share/doc/libc7",
            "é/x",
            "usr/share/doc/libc6\0",
            "abcdefgh",
            "abcdefgi",
            "abcdefghi",
            "abcdefg",
        ];
        for a in words {
            for b in words {
                assert_eq!(compare(a, b), a.cmp(b), "{a:?} {b:?}");
            }
        }
    }
}
