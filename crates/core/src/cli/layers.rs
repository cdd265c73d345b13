//! `image layers` (layerbox's own command): the layers view ([`crate::view::layers`]) as a
//! table — each history entry with its layer's size, `A`/`C`/`D` counts, the build cache
//! outcome and the instruction — then the wasted bytes with the instruction that created and
//! the one that removed them, and the efficiency score; or as JSON.

use std::fmt::Write as _;

use super::tabwriter::TabWriter;
use super::units::human_size;
use crate::build::CacheOutcome;
use crate::view::{LayersView, Removal};

/// The table; `changes` lists each layer's changes under it and every wasted file.
pub fn render(v: &LayersView, changes: bool) -> String {
    let mut table = String::from("LAYER\tSIZE\tADDED\tCHANGED\tDELETED\tCACHE\tINSTRUCTION\n");
    let mut out = String::new();
    let flush = |table: &mut String, out: &mut String| {
        out.push_str(&TabWriter::docker().format(table));
        table.clear();
    };
    for s in &v.steps {
        let Some(layer) = s.layer else {
            let _ = writeln!(table, "-\t0B\t\t\t\t\t{}", s.instruction);
            continue;
        };
        let cache = match &s.cache {
            Some(CacheOutcome::Hit { .. }) => "CACHED",
            Some(CacheOutcome::Miss { .. }) => "BUILT",
            None => "",
        };
        let reason = match &s.cache {
            Some(CacheOutcome::Hit { reason } | CacheOutcome::Miss { reason }) => {
                format!("  ({reason})")
            }
            None => String::new(),
        };
        let _ = writeln!(
            table,
            "{layer}\t{}\t{}\t{}\t{}\t{cache}\t{}{reason}",
            human_size(s.size),
            s.added,
            s.changed,
            s.deleted,
            s.instruction
        );
        if changes && !s.changes.is_empty() {
            flush(&mut table, &mut out);
            for c in &s.changes {
                let _ = writeln!(out, "    {c}");
            }
        }
    }
    flush(&mut table, &mut out);

    let files = |n: usize| if n == 1 { "file" } else { "files" };
    let _ = write!(
        out,
        "\nWasted: {} in {} {}",
        human_size(v.wasted_bytes),
        v.wasted_file_count,
        files(v.wasted_file_count)
    );
    out.push_str(if v.wasted.is_empty() {
        "\n"
    } else {
        " (overwritten or deleted by a later layer)\n"
    });
    for g in &v.wasted {
        let _ = writeln!(
            out,
            "  {} in {} {}\n      created by layer {}: {}\n      removed by layer {}: {}",
            human_size(g.bytes),
            g.files,
            files(g.files),
            g.layer,
            g.created_by,
            g.removed_in,
            g.removed_by
        );
    }
    if changes && !v.wasted_files.is_empty() {
        let mut list = String::new();
        for f in &v.wasted_files {
            let how = match f.removal {
                Removal::Deleted => "deleted",
                Removal::Overwritten => "overwritten",
            };
            let _ = writeln!(
                list,
                "    {}\t{}\tlayer {}\t{how} in layer {}",
                human_size(f.bytes),
                f.path,
                f.layer,
                f.removed_in
            );
        }
        out.push_str(
            &TabWriter {
                min_width: 0,
                padding: 2,
            }
            .format(&list),
        );
        if v.wasted_file_count > v.wasted_files.len() {
            let _ = writeln!(
                out,
                "    … and {} more",
                v.wasted_file_count - v.wasted_files.len()
            );
        }
    }
    let _ = writeln!(out, "Image size: {}", human_size(v.total_bytes));
    let _ = writeln!(
        out,
        "Efficiency: {:.2}% (1 - wasted / image size)",
        v.efficiency * 100.0
    );
    out
}

/// The view as pretty JSON, with a final newline.
pub fn render_json(v: &LayersView) -> String {
    let mut text = serde_json::to_string_pretty(v).unwrap_or_default();
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fs::{Entry, Layer, Meta};

    #[test]
    fn the_table_shows_layers_waste_and_score() {
        let mut l0 = Layer::new();
        l0.insert("tmp", Entry::dir(Meta::new(0o1777, 0)));
        l0.insert(
            "tmp/big",
            Entry::file(Meta::new(0o644, 0), vec![b'x'; 3000]),
        );
        let mut l1 = Layer::new();
        l1.insert("tmp", Entry::dir(Meta::new(0o1777, 0)));
        l1.insert_whiteout("tmp/big");
        let engine = crate::view::layers::tests::engine_with(
            vec![l0, l1],
            &[
                ("RUN /bin/sh -c make big # buildkit", false),
                ("ENV X=1", true),
                ("RUN /bin/sh -c rm /tmp/big # buildkit", false),
            ],
        );
        let v = crate::view::layers::view(&engine, "app", true).unwrap();
        let text = render(&v, true);
        assert_eq!(
            text,
            "\
LAYER     SIZE      ADDED     CHANGED   DELETED   CACHE     INSTRUCTION
0         3kB       2         0         0                   RUN make big
    A /tmp
    A /tmp/big
-         0B                                                ENV X=1
1         0B        0         0         1                   RUN rm /tmp/big
    D /tmp/big

Wasted: 3kB in 1 file (overwritten or deleted by a later layer)
  3kB in 1 file
      created by layer 0: RUN make big
      removed by layer 1: RUN rm /tmp/big
    3kB  /tmp/big  layer 0  deleted in layer 1
Image size: 3kB
Efficiency: 0.00% (1 - wasted / image size)
"
        );
        let json: serde_json::Value = serde_json::from_str(&render_json(&v)).unwrap();
        assert_eq!(json["wasted_bytes"], 3000);
    }
}
