//! The editor's analysis in the page's own thread: the analysis module (`src/bin/analyzer.rs`,
//! the core's parser and linter built for speed) is loaded after the first paint, and then
//! every keystroke's Dockerfile is analysed at once, with no round trip to a worker; until it
//! has loaded (and in native tests) the engine's worker answers [`crate::protocol::Request::Analyze`].
//!
//! The module is fetched and run inside a function: its loader declares a global
//! `wasm_bindgen`, as the views module's does, and two such scripts cannot share the page.

use layerbox_core::dockerfile::editor::Analysis;

#[cfg(target_arch = "wasm32")]
thread_local! {
    /// The module's `analyze`, once loaded.
    static ANALYZE: std::cell::RefCell<Option<js_sys::Function>> =
        const { std::cell::RefCell::new(None) };
}

/// The analysis of `text`, if the module has loaded.
pub fn analyze(text: &str) -> Option<Analysis> {
    #[cfg(target_arch = "wasm32")]
    {
        let json = ANALYZE.with(|f| {
            f.borrow()
                .as_ref()?
                .call1(&wasm_bindgen::JsValue::NULL, &text.into())
                .ok()?
                .as_string()
        })?;
        serde_json::from_str(&json).ok()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = text;
        None
    }
}

/// Loads the module from `js` and `wasm` (relative to the page); `ready` runs once it answers.
#[cfg(target_arch = "wasm32")]
pub fn load(js: &str, wasm: &str, ready: impl FnOnce() + 'static) {
    use wasm_bindgen::JsCast as _;
    let start = js_sys::Function::new_with_args(
        "js, wasm",
        "return fetch(js).then((r) => r.text()).then((t) => { \
           const m = new Function(t + '\\nreturn wasm_bindgen;')(); \
           return m(wasm).then(() => m.analyze); })",
    );
    let Ok(promise) = start.call2(&wasm_bindgen::JsValue::NULL, &js.into(), &wasm.into()) else {
        return;
    };
    let promise: js_sys::Promise = promise.unchecked_into();
    wasm_bindgen_futures::spawn_local(async move {
        // A module that fails to load leaves the analysis to the engine's worker.
        if let Ok(f) = wasm_bindgen_futures::JsFuture::from(promise).await
            && let Ok(f) = f.dyn_into::<js_sys::Function>()
        {
            ANALYZE.with(|a| *a.borrow_mut() = Some(f));
            ready();
        }
    });
}
