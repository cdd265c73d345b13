//! The merged file tree of an image or a container, as the core's files view computes it: each
//! entry with the layer it comes from, its `A`/`C`/`D` change in each layer, whiteouts struck
//! through, a search box, and a viewer for the selected file's contents.

use std::rc::Rc;

use layerbox_core::cli::units::human_size;
use layerbox_core::dockerfile::SourceLines;
use layerbox_core::fs::{ChangeKind, FileType};
use layerbox_core::view::{FileBody, FileContent, FileEntry, FilesView, TargetKind};
use web_sys::HtmlInputElement;
use yew::prelude::*;

/// Properties of [`FileTree`].
#[derive(Properties, PartialEq)]
pub struct FilesProps {
    /// The tree to show.
    pub view: Rc<FilesView>,
    /// The selected file's contents, once the core answered.
    #[prop_or_default]
    pub content: Option<Rc<FileContent>>,
    /// The selected path.
    #[prop_or_default]
    pub selected: Option<String>,
    /// The search text.
    #[prop_or_default]
    pub filter: String,
    /// Called with a path when the learner picks an entry.
    pub onselect: Callback<String>,
    /// Called with the search text as it is typed.
    pub onsearch: Callback<String>,
    /// The lines of the instruction picked in the editor or the layers view: the files its
    /// layers added, changed or deleted are marked.
    #[prop_or_default]
    pub lines: Option<SourceLines>,
    /// The layer picked (when no instruction is): its files are marked.
    #[prop_or_default]
    pub layer: Option<usize>,
    /// Called with a layer of the legend the learner picks, and its instruction's lines.
    #[prop_or_default]
    pub onlayer: Callback<(usize, Option<SourceLines>)>,
}

/// The layers whose files are marked: those the picked instruction made, else the picked layer.
fn picked_layers(v: &FilesView, props: &FilesProps) -> Vec<usize> {
    v.layers
        .iter()
        .filter(|l| match props.lines {
            Some(lines) => l.source == Some(lines),
            None => props.layer == Some(l.index),
        })
        .map(|l| l.index)
        .collect()
}

fn mark(kind: ChangeKind, layer: usize, picked: bool) -> Html {
    let (class, word) = match kind {
        ChangeKind::Added => ("mark-a", "added"),
        ChangeKind::Changed => ("mark-c", "changed"),
        ChangeKind::Deleted => ("mark-d", "deleted"),
    };
    html! {
        <span class={classes!("mark", class, picked.then_some("picked"))}
            title={format!("{word} in layer {layer}")}>
            { format!("{}{layer}", kind.letter()) }
        </span>
    }
}

fn entry_row(
    e: &FileEntry,
    (writable, volumes): (Option<usize>, usize),
    picked: &[usize],
    props: &FilesProps,
) -> Html {
    let on_volume = e.layer >= volumes;
    let touched = e.marks.iter().any(|m| picked.contains(&m.layer));
    let depth = e.path.matches('/').count().saturating_sub(1);
    let name = e.path.rsplit('/').next().unwrap_or(&e.path);
    let in_upper = writable == Some(e.layer);
    // Copied up: it comes from the writable layer, which changed it over a lower layer's copy.
    let copied_up = in_upper
        && !e.deleted
        && e.marks
            .iter()
            .any(|m| Some(m.layer) == writable && m.kind == ChangeKind::Changed);
    let class = classes!(
        "entry",
        match e.file_type {
            FileType::Dir => "dir",
            FileType::File => "file",
            FileType::Symlink => "symlink",
        },
        e.deleted.then_some("deleted"),
        e.opaque.then_some("opaque"),
        in_upper.then_some("in-upper"),
        copied_up.then_some("copied-up"),
        touched.then_some("touched"),
        (props.selected.as_deref() == Some(e.path.as_str())).then_some("selected"),
    );
    let path = e.path.clone();
    let onselect = props.onselect.clone();
    let label = if e.deleted {
        format!("{} (deleted by a whiteout in layer {})", e.path, e.layer)
    } else {
        format!("{} (from layer {})", e.path, e.layer)
    };
    html! {
        <li key={e.path.clone()} class={class} style={format!("--depth: {depth}")}>
            <button class="entry-button" aria-label={label}
                onclick={Callback::from(move |_| onselect.emit(path.clone()))}>
                <code class="ls-mode">{ &e.ls_mode }</code>
                if e.deleted {
                    <s class="name">{ name }</s>
                    <span class="badge whiteout" title="a whiteout hides it from the layers below">
                        { "whiteout" }
                    </span>
                } else {
                    <span class="name">{ name }</span>
                }
                if let Some(target) = &e.link_target {
                    <span class="link">{ format!(" → {target}") }</span>
                }
                if e.opaque {
                    <span class="badge opaque" title="opaque: replaces the lower directory">{ "opaque" }</span>
                }
                <span class="size">{ if e.file_type == FileType::Dir { String::new() } else { human_size(e.size) } }</span>
                <span class={classes!("badge", "origin", in_upper.then_some("upper"), on_volume.then_some("volume"))}
                    title={if in_upper { "from the container's writable layer".to_owned() } else if on_volume { "from a volume, outside the container's layers".to_owned() } else { format!("from layer {}", e.layer) }}>
                    { if in_upper { "RW".to_owned() } else if on_volume { "VOL".to_owned() } else { format!("L{}", e.layer) } }
                </span>
                <span class="marks">
                    { for e.marks.iter().map(|m| mark(m.kind, m.layer, picked.contains(&m.layer))) }
                </span>
            </button>
        </li>
    }
}

fn content_viewer(c: &FileContent) -> Html {
    let body = match &c.body {
        FileBody::Text { text, truncated } => html! {
            <>
                <pre class="text">{ text }</pre>
                if *truncated {
                    <p class="note">{ format!("Showing the first {} bytes.", text.len()) }</p>
                }
            </>
        },
        FileBody::Binary => {
            html! { <p class="note">{ format!("Binary file, {}.", human_size(c.size)) }</p> }
        }
        FileBody::SizeOnly { digest } => html! {
            <p class="note">
                { format!("Simulated content: the simulation keeps only its size ({}) and digest ", human_size(c.size)) }
                <code>{ digest }</code>{ "." }
            </p>
        },
        FileBody::Directory { children } => html! {
            <p class="note">{ format!("Directory with {children} entries.") }</p>
        },
        FileBody::Symlink { target } => html! {
            <p class="note">{ "Symbolic link to " }<code>{ target }</code>{ "." }</p>
        },
    };
    html! {
        <aside class="file-content" aria-label="File contents">
            <h3><code>{ &c.path }</code><span class="badge origin">{ format!("L{}", c.layer) }</span></h3>
            { body }
        </aside>
    }
}

/// How many of the shown paths the picked layers touch, in words.
fn touched_note(v: &FilesView, picked: &[usize]) -> String {
    let [first, ..] = picked else {
        return String::new();
    };
    let n = v
        .entries
        .iter()
        .filter(|e| e.marks.iter().any(|m| picked.contains(&m.layer)))
        .count();
    let which = if picked.len() == 1 {
        format!("layer {first}")
    } else {
        format!("the picked instruction's {} layers", picked.len())
    };
    match n {
        0 => format!("No path shown here was added, changed or deleted by {which}."),
        1 => format!("1 path added, changed or deleted by {which} is marked."),
        _ => format!("{n} paths added, changed or deleted by {which} are marked."),
    }
}

/// The file tree panel.
#[function_component(FileTree)]
pub fn file_tree(props: &FilesProps) -> Html {
    let v = &props.view;
    let writable = v.layers.iter().find(|l| l.writable).map(|l| l.index);
    let volumes = v
        .layers
        .iter()
        .find(|l| l.volume)
        .map_or(usize::MAX, |l| l.index);
    let picked = picked_layers(v, props);
    let onsearch = props.onsearch.clone();
    let oninput = Callback::from(move |e: InputEvent| {
        let input: HtmlInputElement = e.target_unchecked_into();
        onsearch.emit(input.value());
    });
    let what = match v.kind {
        TargetKind::Image => "image",
        TargetKind::Container => "container",
    };
    html! {
        <section class="panel files-view" aria-label="Files">
            <h2>{ format!("Files of {what} ") }<code>{ &v.target }</code></h2>
            <input type="search" class="file-search" placeholder="Search paths"
                aria-label="Search paths" value={props.filter.clone()} {oninput} />
            <ol class="layer-legend" aria-label="Layers">
                { for v.layers.iter().map(|l| {
                    let on = picked.contains(&l.index);
                    let (index, source, onlayer) = (l.index, l.source, props.onlayer.clone());
                    html! {
                        <li class={classes!("layer-label", l.writable.then_some("writable"), l.volume.then_some("volume"), on.then_some("selected"))}>
                            <button class="layer-pick" aria-pressed={on.to_string()}
                                onclick={Callback::from(move |_| onlayer.emit((index, source)))}>
                                <span class={classes!("badge", "origin", l.writable.then_some("upper"), l.volume.then_some("volume"))}>
                                    { if l.writable { "RW".to_owned() } else if l.volume { "VOL".to_owned() } else { format!("L{}", l.index) } }
                                </span>
                                { format!(" {} ({})", l.instruction, human_size(l.size)) }
                            </button>
                        </li>
                    }
                }) }
            </ol>
            <p class="step-note" aria-live="polite">{ touched_note(v, &picked) }</p>
            <ul class="tree" aria-label="Paths">
                { for v.entries.iter().map(|e| entry_row(e, (writable, volumes), &picked, props)) }
            </ul>
            if v.truncated {
                <p class="note">{ format!("Showing {} of {} paths: search to narrow.", v.entries.len(), v.matched) }</p>
            }
            if v.entries.is_empty() {
                <p class="empty">{ "No path matches." }</p>
            }
            if let Some(c) = &props.content {
                { content_viewer(c) }
            }
        </section>
    }
}
