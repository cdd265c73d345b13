//! The build-context editor: file tabs (add, rename, delete, `.dockerignore`), line numbers, and
//! a text area over a highlighted copy of the text (syntax colours and diagnostic squiggles from
//! the core, computed in the worker).
//!
//! The highlighted copy is drawn line by line, each line a component that Yew draws again only
//! when its text or marks change: a keystroke redraws one line, and the worker's answer to it
//! redraws the lines whose marks changed, not the whole file. Lines the answer does not cover yet
//! (typed since it was asked) are drawn plain until the next answer.

use std::collections::BTreeSet;
use std::rc::Rc;

use layerbox_core::dockerfile::SourceLines;
use layerbox_core::dockerfile::diagnostic::{Diagnostic, Severity};
use layerbox_core::dockerfile::editor::{Analysis, TokenKind};
use web_sys::{HtmlInputElement, HtmlTextAreaElement};
use yew::prelude::*;

use crate::state::ProjectFile;

/// Properties of [`Editor`].
#[derive(Properties, PartialEq)]
pub struct EditorProps {
    /// The build context.
    pub files: Vec<ProjectFile>,
    /// Index of the open file.
    pub open: usize,
    /// Highlighting and diagnostics, when the open file is the Dockerfile.
    pub analysis: Option<Rc<Analysis>>,
    /// The text `analysis` is of (`None`: the open file's text as it is).
    #[prop_or_default]
    pub analysed: Option<Rc<str>>,
    /// The lines of the instruction selected here or in the views, marked in the editor.
    #[prop_or_default]
    pub selected: Option<SourceLines>,
    /// Called with the (1-based) line of the caret when the learner clicks in the text or moves
    /// the caret with the keyboard.
    #[prop_or_default]
    pub onpoint: Callback<usize>,
    /// Called with the new text of the open file on every keystroke.
    pub onedit: Callback<String>,
    /// Called with the index of a tab the learner clicked.
    pub onopen: Callback<usize>,
    /// Called to add a new file.
    #[prop_or_default]
    pub onadd: Callback<()>,
    /// Called to open (or add) `.dockerignore`.
    #[prop_or_default]
    pub ondockerignore: Callback<()>,
    /// Called with a file's index and its new name.
    #[prop_or_default]
    pub onrename: Callback<(usize, String)>,
    /// Called with the index of a file to delete.
    #[prop_or_default]
    pub ondelete: Callback<usize>,
    /// The text area, so that other panels can move its selection.
    #[prop_or_default]
    pub textarea: NodeRef,
}

/// The editor panel.
#[function_component(Editor)]
pub fn editor(props: &EditorProps) -> Html {
    let file = &props.files[props.open];
    let oninput = {
        let onedit = props.onedit.clone();
        Callback::from(move |e: InputEvent| {
            onedit.emit(e.target_unchecked_into::<HtmlTextAreaElement>().value());
        })
    };
    let line_count = file.contents.split('\n').count().max(1);
    let open = props.open;
    let onrename = {
        let onrename = props.onrename.clone();
        Callback::from(move |e: Event| {
            onrename.emit((open, e.target_unchecked_into::<HtmlInputElement>().value()));
        })
    };
    let selected = props
        .selected
        .filter(|l| l.first >= 1 && l.first <= line_count);
    let gutter = gutter(line_count, selected);
    // The analysis's lines, marked once per analysis.
    let marked = use_memo(
        (
            props.analysis.clone().map(Same),
            props.analysed.clone().map(Same),
        ),
        |(analysis, analysed)| match (analysis, analysed) {
            (Some(a), Some(t)) => mark_lines(&t.0, &a.0),
            (Some(a), None) => mark_lines(&file.contents, &a.0),
            (None, _) => Vec::new(),
        },
    );
    let highlighted = if props.analysis.is_some() {
        highlight(&file.contents, &marked)
    } else {
        html! { { file.contents.clone() } }
    };
    // The band behind the picked instruction, scrolled into view when it moves (a pick in a
    // view shows its instruction).
    let band = use_node_ref();
    {
        let band = band.clone();
        use_effect_with(selected, move |_| {
            if let Some(el) = band.cast::<web_sys::Element>() {
                let options = web_sys::ScrollIntoViewOptions::new();
                options.set_block(web_sys::ScrollLogicalPosition::Nearest);
                el.scroll_into_view_with_scroll_into_view_options(&options);
            }
        });
    }
    let mark = selected.map(|l| {
        let count = l.last.min(line_count) + 1 - l.first;
        html! {
            <div class="line-mark" aria-hidden="true" ref={band}
                style={format!("--first: {}; --count: {count}", l.first - 1)}></div>
        }
    });
    let onpoint = props.onpoint.clone();
    let point = move |area: &HtmlTextAreaElement| {
        if let Ok(Some(at)) = area.selection_start() {
            onpoint.emit(caret_line(&area.value(), at as usize));
        }
    };
    let onclick = {
        let point = point.clone();
        Callback::from(move |e: MouseEvent| point(&e.target_unchecked_into()))
    };
    let onkeyup = Callback::from(move |e: KeyboardEvent| {
        if matches!(
            e.key().as_str(),
            "ArrowUp" | "ArrowDown" | "PageUp" | "PageDown" | "Home" | "End" | "Enter"
        ) {
            point(&e.target_unchecked_into());
        }
    });
    html! {
        <section class="panel editor" aria-label="Build context editor">
            <nav class="tabs" role="tablist">
                { for props.files.iter().enumerate().map(|(i, f)| {
                    let onopen = props.onopen.clone();
                    html! {
                        <button role="tab" class={classes!("tab", (i == props.open).then_some("active"))}
                            aria-selected={(i == props.open).to_string()}
                            onclick={Callback::from(move |_| onopen.emit(i))}>
                            { &f.path }
                        </button>
                    }
                }) }
                <button class="tab add" title="Add a file to the build context" aria-label="Add a file"
                    onclick={props.onadd.reform(|_| ())}>{ "+" }</button>
                <button class="tab add" title="Files the build context leaves out"
                    onclick={props.ondockerignore.reform(|_| ())}>{ ".dockerignore" }</button>
            </nav>
            <div class="filebar">
                <label>{ "name " }
                    <input id="filename" key={format!("name-{}-{}", props.open, file.path)}
                        value={file.path.clone()} readonly={file.path == "Dockerfile"}
                        aria-label="File name" spellcheck="false"
                        onchange={onrename} />
                </label>
                if file.path != "Dockerfile" {
                    <button class="delete" onclick={props.ondelete.reform(move |_| open)}
                        title="Delete this file">{ "delete" }</button>
                }
            </div>
            <div class="code">
                { gutter }
                <div class="layers">
                    { for mark }
                    <pre class="highlight" aria-hidden="true">{ highlighted }{ "\n" }</pre>
                    <textarea id="editor" ref={props.textarea.clone()} spellcheck="false"
                        autocomplete="off" wrap="off"
                        aria-label={format!("Contents of {}", file.path)}
                        value={file.contents.clone()} {oninput} {onclick} {onkeyup} />
                </div>
            </div>
        </section>
    }
}

fn kind_class(kind: TokenKind) -> &'static str {
    match kind {
        TokenKind::Comment => "tok-comment",
        TokenKind::Keyword => "tok-keyword",
        TokenKind::Flag => "tok-flag",
        TokenKind::Variable => "tok-variable",
        TokenKind::String => "tok-string",
        TokenKind::Heredoc => "tok-heredoc",
    }
}

/// The CSS class of a diagnostic's squiggle.
pub fn severity_class(severity: Severity) -> &'static str {
    match severity {
        Severity::Error => "sev-error",
        Severity::Warning => "sev-warning",
        Severity::Info => "sev-info",
    }
}

/// The line numbers, those of the selected instruction marked.
fn gutter(line_count: usize, selected: Option<SourceLines>) -> Html {
    use std::fmt::Write as _;
    let numbers = |range: std::ops::RangeInclusive<usize>| {
        range.fold(String::new(), |mut s, n| {
            let _ = writeln!(s, "{n}");
            s
        })
    };
    let Some(l) = selected else {
        return html! { <pre class="gutter" aria-hidden="true">{ numbers(1..=line_count) }</pre> };
    };
    let last = l.last.min(line_count);
    html! {
        <pre class="gutter" aria-hidden="true">
            { numbers(1..=l.first - 1) }
            <span class="selected">{ numbers(l.first..=last) }</span>
            { numbers(last + 1..=line_count) }
        </pre>
    }
}

/// The (1-based) line of the caret at UTF-16 offset `at` of `text`, as the DOM counts.
pub fn caret_line(text: &str, at: usize) -> usize {
    let mut units = 0;
    let mut line = 1;
    for c in text.chars() {
        if units >= at {
            break;
        }
        units += c.len_utf16();
        line += usize::from(c == '\n');
    }
    line
}

/// A marked piece of a line: byte offsets in the line, its token and its worst diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Piece {
    start: usize,
    end: usize,
    token: Option<TokenKind>,
    severity: Option<Severity>,
}

/// A line of the analysed text and its marked pieces.
type MarkedLine = (Box<str>, Box<[Piece]>);

/// Compares an `Rc` by identity (the page replaces the analysis whenever it changes).
struct Same<T: ?Sized>(Rc<T>);

impl<T: ?Sized> PartialEq for Same<T> {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

/// The highlighted copy of `text`, from the marked lines of the analysed text: the lines both
/// texts share at their start and at their end keep their marks; the others (typed since the
/// analysis was asked for) are plain.
fn highlight(text: &str, marked: &[MarkedLine]) -> Html {
    let lines: Vec<&str> = text.split('\n').collect();
    let prefix = lines
        .iter()
        .zip(marked)
        .take_while(|(now, (then, _))| **now == &**then)
        .count();
    let room = lines.len().min(marked.len()) - prefix;
    let suffix = lines
        .iter()
        .rev()
        .zip(marked.iter().rev())
        .take(room)
        .take_while(|(now, (then, _))| **now == &**then)
        .count();
    let last = lines.len() - 1;
    let rows = lines.iter().enumerate().map(|(i, line)| {
        let pieces: &[Piece] = if i < prefix {
            &marked[i].1
        } else if i + suffix > last {
            &marked[i + marked.len() - lines.len()].1
        } else {
            &[]
        };
        highlight_line(line, pieces, i < last)
    });
    html! { <>{ for rows }</> }
}

/// One line of the highlighted copy, a block of its own: a change in one line lays out that
/// line only.
fn highlight_line(text: &str, pieces: &[Piece], newline: bool) -> Html {
    let mut at = 0;
    let mut out = Vec::with_capacity(pieces.len() * 2 + 2);
    for p in pieces {
        if p.start > at {
            out.push(html! { { &text[at..p.start] } });
        }
        let class = classes!(
            p.token.map(kind_class),
            p.severity.map(|s| ["squiggle", severity_class(s)])
        );
        out.push(html! { <span {class}>{ &text[p.start..p.end] }</span> });
        at = p.end;
    }
    if at < text.len() {
        out.push(html! { { &text[at..] } });
    }
    if newline {
        out.push(html! { { "\n" } });
    }
    html! { <span class="hl">{ for out }</span> }
}

/// Cuts the text at every token, diagnostic and line boundary, and gives each line its marked
/// pieces.
fn mark_lines(text: &str, analysis: &Analysis) -> Vec<MarkedLine> {
    let clamp = |i: usize| {
        (0..=i.min(text.len()))
            .rev()
            .find(|&j| text.is_char_boundary(j))
            .unwrap_or(0)
    };
    let line_starts: Vec<usize> = std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect();
    let mut cuts: BTreeSet<usize> = line_starts.iter().copied().collect();
    cuts.extend([text.len()]);
    cuts.extend(text.match_indices('\n').map(|(i, _)| i));
    for t in &analysis.tokens {
        cuts.extend([clamp(t.span.start), clamp(t.span.end)]);
    }
    // A diagnostic on an empty span still gets one visible character.
    let spans: Vec<(std::ops::Range<usize>, &Diagnostic)> = analysis
        .diagnostics
        .iter()
        .map(|d| {
            let start = clamp(d.span.start);
            let end = clamp(d.span.end.max(start + 1));
            (start..end.max(start), d)
        })
        .collect();
    for (r, _) in &spans {
        cuts.extend([r.start, r.end]);
    }
    let cuts: Vec<usize> = cuts.into_iter().collect();
    let mut lines: Vec<Vec<Piece>> = vec![Vec::new(); line_starts.len()];
    // One pass over the tokens, which the core gives in source order.
    let tokens = &analysis.tokens;
    let (mut next, mut line) = (0, 0);
    for w in cuts.windows(2) {
        let (a, b) = (w[0], w[1]);
        while line + 1 < line_starts.len() && line_starts[line + 1] <= a {
            line += 1;
        }
        if text[a..b].starts_with('\n') {
            continue;
        }
        while next < tokens.len() && tokens[next].span.end <= a {
            next += 1;
        }
        let token = tokens[next..]
            .iter()
            .take_while(|t| t.span.start <= a)
            .find(|t| b <= t.span.end)
            .map(|t| t.kind);
        let severity = spans
            .iter()
            .filter(|(r, _)| r.start <= a && b <= r.end)
            .map(|(_, d)| d.severity)
            .min();
        if token.is_some() || severity.is_some() {
            let base = line_starts[line];
            lines[line].push(Piece {
                start: a - base,
                end: b - base,
                token,
                severity,
            });
        }
    }
    text.split('\n')
        .zip(lines)
        .map(|(t, pieces)| (Box::from(t), pieces.into_boxed_slice()))
        .collect()
}
