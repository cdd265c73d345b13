//! The lifecycle diagram: the Dockerfile, images and containers of the core's lifecycle view
//! as an SVG graph — build, FROM, run and commit arrows, containers coloured by state.
//!
//! The layout is presentation only: the Dockerfile in the first column, images in the second,
//! containers in the third, each column in the core's order.

use std::collections::HashMap;
use std::rc::Rc;

use layerbox_core::cli::units::human_size;
use layerbox_core::view::{Edge, LifecycleView, Node, NodeKind};
use yew::prelude::*;

/// Properties of [`Lifecycle`].
#[derive(Properties, PartialEq)]
pub struct LifecycleProps {
    /// The graph to draw.
    pub view: Rc<LifecycleView>,
    /// The selected node's ID.
    #[prop_or_default]
    pub selected: Option<String>,
    /// Called with a node's ID when the learner picks it.
    pub onselect: Callback<String>,
}

const NODE_W: i32 = 180;
const NODE_H: i32 = 48;
const COLUMN_X: [i32; 3] = [10, 260, 510];
const ROW_H: i32 = 72;
const TOP: i32 = 30;

fn column(kind: &NodeKind) -> usize {
    match kind {
        NodeKind::Dockerfile => 0,
        NodeKind::Image { .. } => 1,
        NodeKind::Container { .. } => 2,
    }
}

/// Each node's top-left corner.
fn layout(nodes: &[Node]) -> HashMap<&str, (i32, i32)> {
    let mut rows = [0i32; 3];
    nodes
        .iter()
        .map(|n| {
            let c = column(&n.kind);
            let y = TOP + rows[c] * ROW_H;
            rows[c] += 1;
            (n.id.as_str(), (COLUMN_X[c], y))
        })
        .collect()
}

fn node_box(n: &Node, at: (i32, i32), props: &LifecycleProps) -> Html {
    let (x, y) = at;
    let (kind_class, state_class, detail) = match &n.kind {
        NodeKind::Dockerfile => ("node-dockerfile", None, "docker build".to_owned()),
        NodeKind::Image { size, layers, .. } => (
            "node-image",
            None,
            format!("image · {layers} layers · {}", human_size(*size)),
        ),
        NodeKind::Container { state, .. } => (
            "node-container",
            Some(format!("state-{}", state.name())),
            format!("container · {state}"),
        ),
    };
    let selected = props.selected.as_deref() == Some(n.id.as_str());
    let id = n.id.clone();
    let onselect = props.onselect.clone();
    let onclick = {
        let (id, onselect) = (id.clone(), onselect.clone());
        Callback::from(move |_| onselect.emit(id.clone()))
    };
    let onkeydown = Callback::from(move |e: KeyboardEvent| {
        if e.key() == "Enter" || e.key() == " " {
            e.prevent_default();
            onselect.emit(id.clone());
        }
    });
    html! {
        <g key={n.id.clone()} class={classes!("node", kind_class, state_class, selected.then_some("selected"))}
            transform={format!("translate({x} {y})")} tabindex="0" role="button"
            aria-pressed={selected.to_string()}
            aria-label={format!("{}: {detail}", n.label)} {onclick} {onkeydown}>
            <rect width={NODE_W.to_string()} height={NODE_H.to_string()} rx="6" />
            <text class="label" x="10" y="20">{ &n.label }</text>
            <text class="detail" x="10" y="38">{ detail }</text>
        </g>
    }
}

fn edge_path(e: &Edge, at: &HashMap<&str, (i32, i32)>) -> Html {
    let (Some(&(fx, fy)), Some(&(tx, ty))) = (at.get(e.from.as_str()), at.get(e.to.as_str()))
    else {
        return Html::default();
    };
    let (y1, y2) = (fy + NODE_H / 2, ty + NODE_H / 2);
    // Left to right from the source's right side; a commit goes back to the left; between
    // two images (FROM) a loop on the right.
    let (x1, x2, c1, c2) = match tx.cmp(&fx) {
        std::cmp::Ordering::Greater => {
            let mid = i32::midpoint(fx + NODE_W, tx);
            (fx + NODE_W, tx, mid, mid)
        }
        std::cmp::Ordering::Less => {
            let mid = i32::midpoint(fx, tx + NODE_W);
            (fx, tx + NODE_W, mid, mid)
        }
        std::cmp::Ordering::Equal => (fx + NODE_W, tx + NODE_W, fx + NODE_W + 40, tx + NODE_W + 40),
    };
    let d = format!("M {x1} {y1} C {c1} {y1}, {c2} {y2}, {x2} {y2}");
    let kind = e.kind.label();
    let (lx, ly) = (i32::midpoint(c1, c2), i32::midpoint(y1, y2) - 4);
    html! {
        <g key={e.id.clone()} class={classes!("edge", format!("edge-{}", kind.to_lowercase()))}>
            <path d={d} marker-end="url(#lifecycle-arrow)" />
            <text x={lx.to_string()} y={ly.to_string()}>{ kind }</text>
        </g>
    }
}

/// The lifecycle panel.
#[function_component(Lifecycle)]
pub fn lifecycle(props: &LifecycleProps) -> Html {
    let v = &props.view;
    let at = layout(&v.nodes);
    let rows = at
        .values()
        .map(|&(_, y)| y + NODE_H)
        .max()
        .unwrap_or(TOP + NODE_H);
    let height = rows + 20;
    let width = COLUMN_X[2] + NODE_W + 10;
    html! {
        <section class="panel lifecycle-view" aria-label="Lifecycle">
            <h2>{ "Lifecycle" }</h2>
            if v.nodes.is_empty() {
                <p class="empty">{ "Nothing yet: build an image (docker build -t app .) or run one." }</p>
            } else {
                <svg class="lifecycle" viewBox={format!("0 0 {width} {height}")} role="group"
                    aria-label="Dockerfile, images and containers">
                    <defs>
                        <marker id="lifecycle-arrow" viewBox="0 0 10 10" refX="10" refY="5"
                            markerWidth="8" markerHeight="8" orient="auto-start-reverse">
                            <path d="M 0 0 L 10 5 L 0 10 z" />
                        </marker>
                    </defs>
                    <text class="column-title" x={COLUMN_X[0].to_string()} y="16">{ "Dockerfile" }</text>
                    <text class="column-title" x={COLUMN_X[1].to_string()} y="16">{ "Images" }</text>
                    <text class="column-title" x={COLUMN_X[2].to_string()} y="16">{ "Containers" }</text>
                    { for v.edges.iter().map(|e| edge_path(e, &at)) }
                    { for v.nodes.iter().map(|n| node_box(n, at.get(n.id.as_str()).copied().unwrap_or_default(), props)) }
                </svg>
                <ul class="legend" aria-label="Container states">
                    { for ["created", "running", "paused", "restarting", "exited"].iter().map(|s| html! {
                        <li class={format!("state-{s}")}><span class="swatch"></span>{ *s }</li>
                    }) }
                </ul>
            }
        </section>
    }
}
