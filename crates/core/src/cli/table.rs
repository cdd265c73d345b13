//! docker's list formatter: a `--format` value (`table`, `table {{.ID}}\t{{.Image}}`, `json`,
//! or any template) applied to records, with the header row and tabwriter alignment that
//! `table` formats get.
//!
//! ```
//! use layerbox_core::cli::table::render;
//! use serde_json::json;
//! let header = json!({"ID": "CONTAINER ID", "Names": "NAMES"});
//! let rows = [json!({"ID": "db75e28655a8", "Names": "web"})];
//! assert_eq!(render("table {{.ID}}\\t{{.Names}}", &header, &rows, "T").unwrap(),
//!            "CONTAINER ID   NAMES\ndb75e28655a8   web\n");
//! assert_eq!(render("{{.Names}}", &header, &rows, "T").unwrap(), "web\n");
//! ```

use serde_json::Value;

use super::tabwriter::TabWriter;
use super::template::{Template, TemplateError};

/// The format key meaning "the command's default table".
pub const TABLE_FORMAT_KEY: &str = "table";
/// The format key meaning one JSON object per line (docker 23+).
pub const JSON_FORMAT_KEY: &str = "json";
/// The format `-q` selects: IDs only.
pub const QUIET_FORMAT: &str = "{{.ID}}";

/// A `--format` value that could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The template does not parse or fails on a record; docker's wording.
    #[error("template parsing error: {0}")]
    Template(#[from] TemplateError),
}

/// Resolves the `--format` value of a list command to the template to run: an empty value or
/// `table` is the command's `default_table`, `json` is `{{json .}}`, anything else is used as
/// given.
pub fn resolve_format<'a>(format: &'a str, default_table: &'a str) -> &'a str {
    match format {
        "" | TABLE_FORMAT_KEY => default_table,
        JSON_FORMAT_KEY => "{{json .}}",
        other => other,
    }
}

/// Formats `rows` with a resolved format, as docker's `formatter.Context` does: `\t` and `\n`
/// escapes become tabs and newlines, each record's output ends with a newline, and a `table …`
/// format gets the header (the template run over `header`) and tabwriter alignment. A field the
/// records lack is an error naming `go_type`, docker's type for these rows.
pub fn render(
    format: &str,
    header: &Value,
    rows: &[Value],
    go_type: &str,
) -> Result<String, FormatError> {
    let is_table = format.starts_with(TABLE_FORMAT_KEY);
    let body = if is_table {
        &format[TABLE_FORMAT_KEY.len()..]
    } else {
        format
    };
    let body = body
        .trim_matches(' ')
        .replace("\\t", "\t")
        .replace("\\n", "\n");
    let template = Template::parse(&body)?;
    let mut out = String::new();
    if is_table {
        out.push_str(&template.execute_header(header)?);
        out.push('\n');
    }
    for row in rows {
        out.push_str(&template.execute_record(row, go_type)?);
        out.push('\n');
    }
    Ok(if is_table {
        TabWriter::docker().format(&out)
    } else {
        out
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn formats_resolve_like_docker() {
        assert_eq!(resolve_format("", "table {{.ID}}"), "table {{.ID}}");
        assert_eq!(resolve_format("table", "table {{.ID}}"), "table {{.ID}}");
        assert_eq!(resolve_format("json", "table {{.ID}}"), "{{json .}}");
        assert_eq!(resolve_format("{{.Names}}", "table {{.ID}}"), "{{.Names}}");
    }

    #[test]
    fn plain_templates_print_one_line_per_record() {
        let rows = [json!({"ID": "a"}), json!({"ID": "b"})];
        assert_eq!(
            render("id: {{.ID}}", &json!({}), &rows, "T").unwrap(),
            "id: a\nid: b\n"
        );
        assert_eq!(
            render("{{.ID}}\\t!", &json!({}), &rows[..1], "T").unwrap(),
            "a\t!\n"
        );
    }

    #[test]
    fn tables_with_no_rows_print_the_header() {
        let header = json!({"ID": "IMAGE ID", "Size": "SIZE"});
        assert_eq!(
            render("table {{.ID}}\t{{.Size}}", &header, &[], "T").unwrap(),
            "IMAGE ID   SIZE\n"
        );
    }

    #[test]
    fn unknown_fields_are_errors_naming_the_row_type() {
        let rows = [json!({"ID": "abc", "Names": "web"})];
        let err = render(
            "{{.ID}} {{.Name}}",
            &json!({}),
            &rows,
            "*formatter.ContainerContext",
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "template parsing error: template: :1:10: executing \"\" at <.Name>: \
             can't evaluate field Name in type *formatter.ContainerContext"
        );
    }

    #[test]
    fn bad_templates_report_docker_words() {
        let err = render("{{.ID", &json!({}), &[], "T").unwrap_err();
        assert_eq!(
            err.to_string(),
            "template parsing error: template: :1: unclosed action"
        );
    }
}
