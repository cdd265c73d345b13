//! The animations' speed: 0.5×, 1×, 2×, instant, or step by step (each beat of a build waits
//! for Next, or Enter on an empty command line). The learner's pick is kept in localStorage;
//! under `prefers-reduced-motion` everything is instant unless step by step is picked. The
//! speed in effect is also written to `<html data-speed>`, which the stylesheets read to scale
//! or stop the views' animations (copy-up, whiteout, commit, lifecycle).

use yew::prelude::*;

use crate::protocol::BeatKind;

/// Where the learner's pick is kept.
pub const SPEED_KEY: &str = "layerbox.speed";

/// How fast the animations and a build's playback go.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Speed {
    /// Half speed.
    Half,
    /// Normal speed.
    #[default]
    Normal,
    /// Twice as fast.
    Double,
    /// No animation: the final state at once.
    Instant,
    /// Each beat waits for the learner.
    Step,
}

impl Speed {
    /// Every speed, in the control's order.
    pub const ALL: [Speed; 5] = [
        Self::Half,
        Self::Normal,
        Self::Double,
        Self::Instant,
        Self::Step,
    ];

    /// The value kept and written to `<html data-speed>`.
    pub fn key(self) -> &'static str {
        match self {
            Self::Half => "0.5",
            Self::Normal => "1",
            Self::Double => "2",
            Self::Instant => "instant",
            Self::Step => "step",
        }
    }

    /// The speed kept under [`SPEED_KEY`] (`None` if nothing, or nothing known, was kept).
    pub fn from_key(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }

    /// What the control shows.
    pub fn label(self) -> &'static str {
        match self {
            Self::Half => "0.5×",
            Self::Normal => "1×",
            Self::Double => "2×",
            Self::Instant => "instant",
            Self::Step => "step by step",
        }
    }

    /// The speed in effect: with reduced motion asked for, instant unless step by step.
    #[must_use]
    pub fn effective(self, reduced_motion: bool) -> Self {
        if reduced_motion && self != Self::Step {
            Self::Instant
        } else {
            self
        }
    }

    /// How long a beat of `kind` stays before the next: `None` when it waits for Next (step
    /// by step) or when nothing is played (instant).
    pub fn beat_millis(self, kind: BeatKind) -> Option<u32> {
        let ms = kind.millis();
        match self {
            Self::Half => Some(ms * 2),
            Self::Normal => Some(ms),
            Self::Double => Some(ms / 2),
            Self::Instant | Self::Step => None,
        }
    }
}

/// Whether the browser asks for reduced motion (`prefers-reduced-motion: reduce`).
pub fn prefers_reduced_motion() -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        web_sys::window()
            .and_then(|w| {
                w.match_media("(prefers-reduced-motion: reduce)")
                    .ok()
                    .flatten()
            })
            .is_some_and(|m| m.matches())
    }
    #[cfg(not(target_arch = "wasm32"))]
    false
}

/// What [`speed_control`] shows (the terminal's heading holds it).
#[derive(Properties, Clone, Default, PartialEq)]
pub struct SpeedProps {
    /// The learner's pick.
    #[prop_or_default]
    pub speed: Speed,
    /// Whether the browser asks for reduced motion.
    #[prop_or_default]
    pub reduced_motion: bool,
    /// The beat shown and how many there are, while a build plays back.
    #[prop_or_default]
    pub playing: Option<(usize, usize)>,
    /// A speed was picked.
    #[prop_or_default]
    pub onspeed: Callback<Speed>,
    /// Next beat (step by step).
    #[prop_or_default]
    pub onnext: Callback<()>,
    /// Show the end at once.
    #[prop_or_default]
    pub onskip: Callback<()>,
}

/// The speed picker, and while a build plays back its progress, Next and Skip. A plain
/// function rather than a component of its own: the first page is kept small.
pub fn speed_control(props: &SpeedProps) -> Html {
    let onchange = {
        let onspeed = props.onspeed.clone();
        Callback::from(move |e: Event| {
            let value = e
                .target_unchecked_into::<web_sys::HtmlSelectElement>()
                .value();
            if let Some(speed) = Speed::from_key(&value) {
                onspeed.emit(speed);
            }
        })
    };
    let effective = props.speed.effective(props.reduced_motion);
    let onnext = props.onnext.reform(|_: MouseEvent| ());
    let onskip = props.onskip.reform(|_: MouseEvent| ());
    let reduced = props.reduced_motion && props.speed != Speed::Step;
    html! {
        <span class="speed" role="group" aria-label="Animations">
            <label>{ "Speed " }
                <select id="speed" aria-label="Animation speed" {onchange}>
                    { for Speed::ALL.iter().map(|s| html! {
                        <option value={s.key()} selected={*s == props.speed}>{ s.label() }</option>
                    }) }
                </select>
            </label>
            if reduced {
                <span class="note reduced" title="step by step still goes step by step">
                    { "reduced motion" }</span>
            }
            if let Some((beat, total)) = props.playing {
                <span class="beat" aria-live="polite">{ format!("step {} of {total}", beat + 1) }</span>
                if effective == Speed::Step {
                    <button id="next" onclick={onnext} aria-keyshortcuts="Enter"
                        title="or Enter on an empty line">{ "Next ▸" }</button>
                }
                <button id="skip" onclick={onskip}>{ "Skip" }</button>
            }
        </span>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speeds_are_kept_by_key_and_reduced_motion_makes_them_instant_but_step() {
        for s in Speed::ALL {
            assert_eq!(Speed::from_key(s.key()), Some(s));
            let reduced = s.effective(true);
            assert_eq!(reduced == Speed::Step, s == Speed::Step);
            assert_eq!(s.effective(false), s);
        }
        assert_eq!(Speed::from_key("fast"), None);
        assert_eq!(Speed::Half.effective(true), Speed::Instant);
    }

    #[test]
    fn beats_last_longer_at_half_speed_and_wait_in_step_mode() {
        let k = BeatKind::Built;
        let normal = Speed::Normal.beat_millis(k).unwrap();
        assert_eq!(Speed::Half.beat_millis(k), Some(normal * 2));
        assert_eq!(Speed::Double.beat_millis(k), Some(normal / 2));
        assert_eq!(Speed::Step.beat_millis(k), None);
        assert_eq!(Speed::Instant.beat_millis(k), None);
        assert!(BeatKind::Cached.millis() < BeatKind::Built.millis());
    }
}
