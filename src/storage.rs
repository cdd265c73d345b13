//! The page's own keeping: localStorage (the project, the engine's saved state) and the URL
//! fragment (share links). Outside a browser (SSR, native tests) nothing is kept.

/// The key of the project's files (JSON).
pub const PROJECT_KEY: &str = "layerbox.project";
/// The key of the engine's saved state (from the worker, opaque).
pub const ENGINE_KEY: &str = "layerbox.engine";

#[cfg(target_arch = "wasm32")]
fn local_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// The text kept under `key`, if any.
pub fn load(key: &str) -> Option<String> {
    #[cfg(target_arch = "wasm32")]
    {
        local_storage()?.get_item(key).ok().flatten()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = key;
        None
    }
}

/// Keeps `value` under `key`; the error says why it could not (quota, storage disabled).
pub fn save(key: &str, value: &str) -> Result<(), String> {
    #[cfg(target_arch = "wasm32")]
    {
        let storage = local_storage().ok_or("this browser keeps no local storage")?;
        storage
            .set_item(key, value)
            .map_err(|_| format!("the browser refused to keep {} KB", value.len() / 1024))
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        let _ = (key, value);
        Ok(())
    }
}

/// Forgets what is kept under `key`.
pub fn remove(key: &str) {
    #[cfg(target_arch = "wasm32")]
    if let Some(s) = local_storage() {
        let _ = s.remove_item(key);
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = key;
}

/// The page's URL fragment without `#` (empty when none).
pub fn fragment() -> String {
    #[cfg(target_arch = "wasm32")]
    {
        web_sys::window()
            .and_then(|w| w.location().hash().ok())
            .map(|h| h.trim_start_matches('#').to_owned())
            .unwrap_or_default()
    }
    #[cfg(not(target_arch = "wasm32"))]
    String::new()
}

/// Removes the fragment from the address bar without reloading (after a share link is read).
pub fn clear_fragment() {
    #[cfg(target_arch = "wasm32")]
    if let Some(w) = web_sys::window()
        && let (Ok(history), Ok(path)) = (w.history(), w.location().pathname())
    {
        let search = w.location().search().unwrap_or_default();
        let _ = history.replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(&format!("{path}{search}")),
        );
    }
}

/// The page's address without its fragment, for building share links.
pub fn base_url() -> String {
    #[cfg(target_arch = "wasm32")]
    {
        web_sys::window()
            .and_then(|w| w.location().href().ok())
            .map(|h| h.split('#').next().unwrap_or_default().to_owned())
            .unwrap_or_default()
    }
    #[cfg(not(target_arch = "wasm32"))]
    String::new()
}

/// Copies `text` to the clipboard (best effort: the browser may refuse).
pub fn copy(text: &str) {
    #[cfg(target_arch = "wasm32")]
    if let Some(w) = web_sys::window() {
        let _ = w.navigator().clipboard().write_text(text);
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = text;
}

/// Offers `text` as a file download named `name`.
pub fn download(name: &str, text: &str) {
    #[cfg(target_arch = "wasm32")]
    download_url(
        name,
        &format!(
            "data:application/json;charset=utf-8,{}",
            String::from(js_sys::encode_uri_component(text))
        ),
    );
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (name, text);
}

/// Offers the `data:` URL `href` as a file download named `name` (a link clicked for the
/// learner).
pub fn download_url(name: &str, href: &str) {
    #[cfg(target_arch = "wasm32")]
    if let Some(document) = web_sys::window().and_then(|w| w.document())
        && let Ok(a) = document.create_element("a")
    {
        let _ = a.set_attribute("href", href);
        let _ = a.set_attribute("download", name);
        if let Ok(click) = js_sys::Reflect::get(&a, &"click".into()) {
            let _ = js_sys::Function::from(click).call0(&a);
        }
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = (name, href);
}

/// The text of the first file picked in a file `<input>` (`None` when none, or unreadable).
#[cfg(target_arch = "wasm32")]
pub async fn picked_text(input: &web_sys::HtmlInputElement) -> Option<String> {
    let file = input.files()?.get(0)?;
    let text = wasm_bindgen_futures::JsFuture::from(file.text())
        .await
        .ok()?;
    text.as_string()
}

/// The name and the contents (as a base64 `data:` URL) of the first file picked in a file
/// `<input>`; `None` when none, or unreadable.
#[cfg(target_arch = "wasm32")]
pub async fn picked_data_url(input: &web_sys::HtmlInputElement) -> Option<(String, String)> {
    use wasm_bindgen::JsCast as _;
    let file = input.files()?.get(0)?;
    let reader = web_sys::FileReader::new().ok()?;
    let done = js_sys::Promise::new(&mut |resolve, reject| {
        reader.set_onload(Some(resolve.unchecked_ref()));
        reader.set_onerror(Some(reject.unchecked_ref()));
    });
    reader.read_as_data_url(&file).ok()?;
    wasm_bindgen_futures::JsFuture::from(done).await.ok()?;
    let url = reader.result().ok()?.as_string()?;
    Some((file.name(), url))
}
