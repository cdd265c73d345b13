//! The layer stack of an image, bottom to top, as the core's layers view computes it: each
//! step's instruction, size and changes, whether the last build took it from the cache (and
//! why), the bytes later layers wasted, and the efficiency score.

use std::rc::Rc;

use layerbox_core::build::CacheOutcome;
use layerbox_core::cli::units::human_size;
use layerbox_core::dockerfile::SourceLines;
use layerbox_core::view::{LayerStep, LayersView};
use yew::prelude::*;

/// Properties of [`LayerStack`].
#[derive(Properties, PartialEq)]
pub struct LayersProps {
    /// The view to show.
    pub view: Rc<LayersView>,
    /// The selected layer (index among the image's layers).
    #[prop_or_default]
    pub selected: Option<usize>,
    /// Called with a layer's index when the learner picks it.
    pub onselect: Callback<usize>,
    /// While its build plays back: how many entries show, and whether the next one's step is
    /// running (a placeholder shows it).
    #[prop_or_default]
    pub reveal: Option<(usize, bool)>,
    /// The lines of the instruction picked (in the editor or here): its steps are marked.
    #[prop_or_default]
    pub lines: Option<SourceLines>,
    /// Called with the lines of the instruction of a step the learner picks.
    #[prop_or_default]
    pub onlines: Callback<Option<SourceLines>>,
}

/// Whether `step` is the one picked: by its instruction's lines when the learner picked an
/// instruction, else by its layer.
fn picked(step: &LayerStep, props: &LayersProps) -> bool {
    match props.lines {
        Some(lines) => step.source == Some(lines),
        None => step.layer.is_some() && step.layer == props.selected,
    }
}

/// `line 4`, `lines 4–6`.
fn lines_text(l: SourceLines) -> String {
    if l.first == l.last {
        format!("line {}", l.first)
    } else {
        format!("lines {}–{}", l.first, l.last)
    }
}

/// `CACHED` or `BUILT` with the cache's reason, or nothing for layers the build did not make.
fn cache_badge(cache: Option<&CacheOutcome>) -> Html {
    match cache {
        Some(CacheOutcome::Hit { reason }) => html! {
            <span class="badge cache-hit" title={format!("Taken from the build cache: {reason}")}>
                { "CACHED" }
            </span>
        },
        Some(CacheOutcome::Miss { reason }) => html! {
            <span class="badge cache-miss" title={format!("Built: {reason}")}>{ "BUILT" }</span>
        },
        None => Html::default(),
    }
}

/// `1 file`, `7 files`.
fn files(n: usize) -> String {
    if n == 1 {
        "1 file".to_owned()
    } else {
        format!("{n} files")
    }
}

fn step_item(step: &LayerStep, order: usize, props: &LayersProps) -> Html {
    let style = format!("--order: {order}");
    let picked = picked(step, props);
    let source = step.source;
    let onlines = props.onlines.clone();
    let Some(layer) = step.layer else {
        return html! {
            <li key={format!("h{}", step.history)}
                class={classes!("layer", "config-only", picked.then_some("selected"))} style={style}>
                <button class="layer-button" aria-pressed={picked.to_string()}
                    title={step.created_by.clone()}
                    onclick={Callback::from(move |_| onlines.emit(source))}>
                    <span class="instruction">{ &step.instruction }</span>
                    <span class="note">{ "config only, no layer" }</span>
                </button>
            </li>
        };
    };
    let cached = matches!(step.cache, Some(CacheOutcome::Hit { .. }));
    let class = classes!(
        "layer",
        cached.then_some("cached"),
        matches!(step.cache, Some(CacheOutcome::Miss { .. })).then_some("built"),
        picked.then_some("selected"),
        (step.wasted_bytes > 0).then_some("wasteful"),
    );
    let onselect = props.onselect.clone();
    let key = step
        .diff_id
        .map_or_else(|| format!("l{layer}"), |d| format!("{layer}-{}", d.short()));
    html! {
        <li key={key} class={class} style={style}>
            <button class="layer-button"
                onclick={Callback::from(move |_| {
                    onselect.emit(layer);
                    onlines.emit(source);
                })}
                aria-pressed={picked.to_string()}
                title={step.created_by.clone()}>
                <span class="index">{ layer }</span>
                <span class="instruction">{ &step.instruction }</span>
                { cache_badge(step.cache.as_ref()) }
                <span class="size">{ human_size(step.size) }</span>
                <span class="changes" aria-label="added, changed, deleted paths">
                    <span class="mark mark-a" title="added">{ format!("A {}", step.added) }</span>
                    <span class="mark mark-c" title="changed">{ format!("C {}", step.changed) }</span>
                    <span class="mark mark-d" title="deleted">{ format!("D {}", step.deleted) }</span>
                </span>
                if step.wasted_bytes > 0 {
                    <span class="wasted" title="bytes of this layer a later layer overwrote or deleted">
                        { format!("{} wasted", human_size(step.wasted_bytes)) }
                    </span>
                }
            </button>
        </li>
    }
}

/// What the picked instruction made, in words (read out to screen readers as it changes).
fn step_note(props: &LayersProps) -> String {
    let Some(lines) = props.lines else {
        return String::new();
    };
    let steps: Vec<&LayerStep> = props
        .view
        .steps
        .iter()
        .filter(|s| picked(s, props))
        .collect();
    let layers: Vec<String> = steps
        .iter()
        .filter_map(|s| s.layer.map(|l| l.to_string()))
        .collect();
    let at = lines_text(lines);
    match (steps.len(), layers.len()) {
        (0, _) => format!("No step of this image comes from Dockerfile {at}."),
        (_, 0) => format!("Dockerfile {at}: the image's config only, no layer."),
        (_, 1) => format!("Dockerfile {at}: layer {}.", layers[0]),
        _ => format!("Dockerfile {at}: layers {}.", layers.join(", ")),
    }
}

/// The layer stack panel.
#[function_component(LayerStack)]
pub fn layer_stack(props: &LayersProps) -> Html {
    let v = &props.view;
    let name = v
        .tags
        .first()
        .cloned()
        .unwrap_or_else(|| format!("<none> {}", v.image.short()));
    let percent = v.efficiency * 100.0;
    // A build played back shows its layers as its steps make them, each sliding in at once.
    let shown = props.reveal.map_or(v.steps.len(), |(n, _)| n);
    let running = props
        .reveal
        .filter(|(_, running)| *running)
        .and_then(|(n, _)| v.steps.get(n));
    let order = |i: usize| if props.reveal.is_some() { 0 } else { i };
    html! {
        <section class="panel layers-view" aria-label="Image layers">
            <h2>{ "Layers of " }<code>{ name }</code>
                <span class="count">{ format!("{} layers, {}", v.layer_count, human_size(v.total_bytes)) }</span>
            </h2>
            <ol class="layer-stack" aria-label="bottom to top">
                { for v.steps.iter().take(shown).enumerate().map(|(i, s)| step_item(s, order(i), props)) }
                if let Some(s) = running {
                    <li key="running" class="layer running" aria-label={format!("running: {}", s.instruction)}>
                        <span class="instruction">{ &s.instruction }</span>
                        <span class="note">{ "running…" }</span>
                    </li>
                }
            </ol>
            <p class="step-note" aria-live="polite">{ step_note(props) }</p>
            <div class="efficiency">
                <label>
                    { "Efficiency " }
                    <meter min="0" max="1" low="0.9" high="0.98" optimum="1"
                        value={v.efficiency.to_string()}></meter>
                    <strong>{ format!(" {percent:.2}%") }</strong>
                </label>
                <span class="wasted-total">
                    { format!("{} wasted in {}", human_size(v.wasted_bytes), files(v.wasted_file_count)) }
                </span>
                <p class="definition">{ "Efficiency = 1 − wasted / image size: wasted bytes are file versions a later layer overwrote or deleted. They are still pulled and stored, but no container can see them." }</p>
            </div>
            if !v.wasted.is_empty() {
                <ul class="wasted-groups" aria-label="Wasted bytes">
                    { for v.wasted.iter().map(|g| html! {
                        <li>
                            <strong>{ human_size(g.bytes) }</strong>
                            { format!(" in {}: created by ", files(g.files)) }
                            <code>{ &g.created_by }</code>
                            { format!(" (layer {}), removed by ", g.layer) }
                            <code>{ &g.removed_by }</code>
                            { format!(" (layer {})", g.removed_in) }
                        </li>
                    }) }
                </ul>
            }
        </section>
    }
}
