//! The display toggles for a classroom: light or dark theme, and presenter mode (larger text,
//! higher contrast, for a projector). Both are attributes on `<html>` that the stylesheet reads,
//! kept in localStorage so that a reload keeps them.

use yew::prelude::*;

use crate::storage;

/// Where the theme is kept (`light` or `dark`; unset follows the system's preference).
pub const THEME_KEY: &str = "layerbox.theme";
/// Where presenter mode is kept (`on` when on).
pub const PRESENTER_KEY: &str = "layerbox.presenter";

/// A theme: the system's preference until the learner picks one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Theme {
    /// Follow `prefers-color-scheme`.
    System,
    /// Dark background.
    Dark,
    /// Light background.
    Light,
}

impl Theme {
    /// The theme kept under [`THEME_KEY`].
    pub fn from_saved(saved: Option<&str>) -> Self {
        match saved {
            Some("dark") => Self::Dark,
            Some("light") => Self::Light,
            _ => Self::System,
        }
    }

    /// The next theme on a click: system → dark → light → system.
    #[must_use]
    pub fn next(self) -> Self {
        match self {
            Self::System => Self::Dark,
            Self::Dark => Self::Light,
            Self::Light => Self::System,
        }
    }

    /// The value of `<html data-theme>` and of the saved key (`None`: removed).
    pub fn attribute(self) -> Option<&'static str> {
        match self {
            Self::System => None,
            Self::Dark => Some("dark"),
            Self::Light => Some("light"),
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::System => "Theme: system",
            Self::Dark => "Theme: dark",
            Self::Light => "Theme: light",
        }
    }
}

/// Sets or removes `name` on `<html>`.
pub(crate) fn set_root_attribute(name: &str, value: Option<&str>) {
    #[cfg(target_arch = "wasm32")]
    if let Some(root) = web_sys::window()
        .and_then(|w| w.document())
        .and_then(|d| d.document_element())
    {
        let _ = match value {
            Some(v) => root.set_attribute(name, v),
            None => root.remove_attribute(name),
        };
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (name, value);
}

fn keep(key: &str, value: Option<&str>) {
    match value {
        Some(v) => {
            let _ = storage::save(key, v);
        }
        None => storage::remove(key),
    }
}

/// The two toggle buttons of the header. `index.html` applies what was kept before the first
/// paint; a click changes the attribute and keeps the choice.
#[function_component(DisplayToggles)]
pub fn display_toggles() -> Html {
    let theme = use_state(|| Theme::from_saved(storage::load(THEME_KEY).as_deref()));
    let presenter = use_state(|| storage::load(PRESENTER_KEY).as_deref() == Some("on"));
    let ontheme = {
        let theme = theme.clone();
        Callback::from(move |_| {
            let next = theme.next();
            set_root_attribute("data-theme", next.attribute());
            keep(THEME_KEY, next.attribute());
            theme.set(next);
        })
    };
    let onpresenter = {
        let presenter = presenter.clone();
        Callback::from(move |_| {
            let on = (!*presenter).then_some("on");
            set_root_attribute("data-presenter", on);
            keep(PRESENTER_KEY, on);
            presenter.set(on.is_some());
        })
    };
    html! {
        <>
            <button id="theme" onclick={ontheme}
                title="Switch between the system's theme, dark and light">
                { theme.label() }</button>
            <button id="presenter" onclick={onpresenter} aria-pressed={presenter.to_string()}
                title="Larger text and higher contrast, for a projector">
                { "Presenter" }</button>
        </>
    }
}

#[cfg(test)]
mod tests {
    use super::Theme;

    #[test]
    fn themes_cycle_and_come_back_from_what_was_kept() {
        let mut t = Theme::System;
        let mut seen = Vec::new();
        for _ in 0..3 {
            seen.push(t.attribute());
            assert_eq!(Theme::from_saved(t.attribute()), t);
            t = t.next();
        }
        assert_eq!(seen, [None, Some("dark"), Some("light")]);
        assert_eq!(t, Theme::System);
        assert_eq!(Theme::from_saved(Some("purple")), Theme::System);
    }
}
