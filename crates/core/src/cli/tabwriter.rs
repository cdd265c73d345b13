//! Go's `text/tabwriter`, as docker's table output uses it: `NewWriter(out, 10, 1, 3, ' ', 0)`.
//!
//! Cells are terminated by `\t`; a column is as wide as its widest cell plus the padding, and at
//! least the minimum width. Like Go's, only tab-terminated cells count towards a column (the last
//! cell of a line is never padded), columns are laid out in blocks of consecutive lines that have
//! that column, and widths are counted in Unicode scalar values (runes), not bytes.
//!
//! ```
//! use layerbox_core::cli::tabwriter::TabWriter;
//! let out = TabWriter::docker().format("ID\tNAME\nabc\tweb\n");
//! assert_eq!(out, "ID        NAME\nabc       web\n");
//! ```

/// A tab-separated text aligner with Go tabwriter's `minwidth` and `padding` (padding character
/// `' '`, no flags).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TabWriter {
    /// Minimal width of a column, padding included.
    pub min_width: usize,
    /// Spaces added to the widest cell of a column.
    pub padding: usize,
}

impl TabWriter {
    /// The settings of docker's table formatter: minimum width 10, padding 3.
    pub const fn docker() -> Self {
        Self {
            min_width: 10,
            padding: 3,
        }
    }

    /// Aligns `text` (lines separated by `\n`, cells terminated by `\t`) into columns.
    pub fn format(&self, text: &str) -> String {
        let lines: Vec<Vec<&str>> = text.split('\n').map(|l| l.split('\t').collect()).collect();
        let mut out = String::with_capacity(text.len() * 2);
        let mut widths = Vec::new();
        self.format_block(&lines, &mut widths, &mut out, 0, lines.len());
        out
    }

    /// Go's `Writer.format`: find the blocks of lines sharing column `widths.len()`, size it, and
    /// recurse into the next column.
    fn format_block(
        &self,
        lines: &[Vec<&str>],
        widths: &mut Vec<usize>,
        out: &mut String,
        mut line0: usize,
        line1: usize,
    ) {
        let column = widths.len();
        let mut this = line0;
        while this < line1 {
            if column + 1 >= lines[this].len() {
                this += 1;
                continue;
            }
            // A block of lines having this column starts here.
            write_lines(lines, widths, out, line0, this, lines.len());
            line0 = this;
            let mut width = self.min_width;
            while this < line1 && column + 1 < lines[this].len() {
                width = width.max(cell_width(lines[this][column]) + self.padding);
                this += 1;
            }
            widths.push(width);
            self.format_block(lines, widths, out, line0, this);
            widths.pop();
            line0 = this;
        }
        write_lines(lines, widths, out, line0, line1, lines.len());
    }
}

/// The displayed width of a cell: its rune count, as Go's tabwriter counts.
fn cell_width(cell: &str) -> usize {
    cell.chars().count()
}

/// Go's `Writer.writeLines`: print lines `line0..line1` with the current column widths; the
/// very last line of the text gets no newline.
fn write_lines(
    lines: &[Vec<&str>],
    widths: &[usize],
    out: &mut String,
    line0: usize,
    line1: usize,
    total: usize,
) {
    for (i, line) in lines.iter().enumerate().take(line1).skip(line0) {
        for (j, cell) in line.iter().enumerate() {
            out.push_str(cell);
            if let Some(&w) = widths.get(j) {
                for _ in cell_width(cell)..w {
                    out.push(' ');
                }
            }
        }
        if i + 1 < total {
            out.push('\n');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pads_to_min_width_and_widest_cell() {
        let out = TabWriter::docker().format("A\tBB\tC\nlonger cell here\tx\ty\n");
        assert_eq!(
            out,
            "A                  BB        C\nlonger cell here   x         y\n"
        );
    }

    #[test]
    fn trailing_empty_cells_keep_their_padding() {
        // The cell before an empty last cell is padded, as docker's history COMMENT column shows.
        let out = TabWriter::docker().format("SIZE\tCOMMENT\n0B\t\n");
        assert_eq!(out, "SIZE      COMMENT\n0B        \n");
    }

    #[test]
    fn counts_runes_not_bytes() {
        let out = TabWriter {
            min_width: 0,
            padding: 1,
        }
        .format("a…\tb\nabc\tc\n");
        assert_eq!(out, "a…  b\nabc c\n");
    }

    #[test]
    fn column_blocks_end_at_lines_without_the_column() {
        let out = TabWriter {
            min_width: 0,
            padding: 1,
        }
        .format("aaaa\tb\nno tabs\nc\td\n");
        assert_eq!(out, "aaaa b\nno tabs\nc d\n");
    }

    #[test]
    fn text_without_final_newline_is_kept_as_is() {
        let out = TabWriter {
            min_width: 0,
            padding: 2,
        }
        .format("a\tb");
        assert_eq!(out, "a  b");
    }
}
