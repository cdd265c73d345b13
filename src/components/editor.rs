//! The build-context editor: file tabs (add, rename, delete, `.dockerignore`), line numbers, and
//! a text area over a highlighted copy of the text (syntax colours and diagnostic squiggles from
//! the core, computed in the worker).

use std::collections::BTreeSet;

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
    pub analysis: Option<std::rc::Rc<Analysis>>,
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
    let gutter = (1..=line_count).fold(String::new(), |mut s, n| {
        use std::fmt::Write as _;
        let _ = writeln!(s, "{n}");
        s
    });
    let highlighted = match &props.analysis {
        Some(a) => highlight(&file.contents, a),
        None => html! { { file.contents.clone() } },
    };
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
                <pre class="gutter" aria-hidden="true">{ gutter }</pre>
                <div class="layers">
                    <pre class="highlight" aria-hidden="true">{ highlighted }{ "\n" }</pre>
                    <textarea id="editor" ref={props.textarea.clone()} spellcheck="false"
                        autocomplete="off" wrap="off"
                        aria-label={format!("Contents of {}", file.path)}
                        value={file.contents.clone()} {oninput} />
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

/// Cuts the text at every token and diagnostic boundary and gives each piece its classes.
fn highlight(text: &str, analysis: &Analysis) -> Html {
    let clamp = |i: usize| {
        (0..=i.min(text.len()))
            .rev()
            .find(|&j| text.is_char_boundary(j))
            .unwrap_or(0)
    };
    let mut cuts: BTreeSet<usize> = BTreeSet::from([0, text.len()]);
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
    // One pass over the tokens, which the core gives in source order (a 300-line Dockerfile
    // has thousands of pieces).
    let tokens = &analysis.tokens;
    let mut next = 0;
    let pieces = cuts.windows(2).map(move |w| {
        let (a, b) = (w[0], w[1]);
        let piece = &text[a..b];
        while next < tokens.len() && tokens[next].span.end <= a {
            next += 1;
        }
        let token = tokens[next..]
            .iter()
            .take_while(|t| t.span.start <= a)
            .find(|t| b <= t.span.end);
        let diag = spans
            .iter()
            .filter(|(r, _)| r.start <= a && b <= r.end)
            .map(|(_, d)| d.severity)
            .min();
        if token.is_none() && diag.is_none() {
            return html! { { piece } };
        }
        let class = classes!(
            token.map(|t| kind_class(t.kind)),
            diag.map(|s| ["squiggle", severity_class(s)])
        );
        html! { <span {class}>{ piece }</span> }
    });
    html! { <>{ for pieces }</> }
}
