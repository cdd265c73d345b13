//! The page's end of the connection to the engine: requests go out, answers come back to one
//! callback. In the browser the other end is the web worker; tests use an in-process [`Host`]
//! instead, which the page's own binary never links.

use std::cell::RefCell;
use std::rc::Rc;

use yew::Callback;

use crate::host::Host;
use crate::protocol::{Request, Response};

/// Sends requests to the engine.
#[derive(Clone)]
pub struct Bridge {
    send: Rc<dyn Fn(Request)>,
}

impl Bridge {
    /// A bridge that hands each request to `send`.
    pub fn new(send: impl Fn(Request) + 'static) -> Self {
        Self {
            send: Rc::new(send),
        }
    }

    /// Sends one request; its answers come to the callback the bridge was connected with.
    pub fn send(&self, request: Request) {
        (self.send)(request);
    }
}

impl std::fmt::Debug for Bridge {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Bridge")
    }
}

/// Makes a [`Bridge`] whose answers go to the given callback.
#[derive(Clone)]
pub struct Connect(pub Rc<dyn Fn(Callback<Response>) -> Bridge>);

impl PartialEq for Connect {
    fn eq(&self, other: &Self) -> bool {
        Rc::ptr_eq(&self.0, &other.0)
    }
}

impl std::fmt::Debug for Connect {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Connect")
    }
}

/// An in-process engine: each request is answered on a later turn of the event loop, as the
/// worker would. `host` makes the engine (tests give it a catalog and a fixed clock).
pub fn local(host: impl Fn() -> Host + 'static) -> Connect {
    let host = Rc::new(host);
    Connect(Rc::new(move |answer: Callback<Response>| {
        let engine = Rc::new(RefCell::new(host()));
        answer.emit(Response::Ready);
        Bridge::new(move |request| {
            let engine = Rc::clone(&engine);
            let answer = answer.clone();
            yew::platform::spawn_local(async move {
                let responses = engine.borrow_mut().handle(request);
                let saved = engine.borrow_mut().take_saved();
                for r in responses.into_iter().chain(saved) {
                    answer.emit(r);
                }
            });
        })
    }))
}

/// The engine in a web worker started from `url` (trunk's loader script for the worker).
/// Requests made before the worker says it is ready wait in the page.
#[cfg(target_arch = "wasm32")]
pub fn worker(url: &'static str) -> Connect {
    use wasm_bindgen::JsCast as _;
    use wasm_bindgen::prelude::*;
    Connect(Rc::new(move |answer: Callback<Response>| {
        let failed = |message: String| {
            let answer = answer.clone();
            Bridge::new(move |_| {
                answer.emit(Response::Error {
                    message: message.clone(),
                });
            })
        };
        let worker = match web_sys::Worker::new(url) {
            Ok(w) => w,
            Err(e) => return failed(format!("the engine's worker could not start ({e:?})")),
        };
        // Requests wait here until the worker's first message (Ready).
        let pending: Rc<RefCell<Option<Vec<String>>>> = Rc::new(RefCell::new(Some(Vec::new())));
        let onmessage = {
            let worker = worker.clone();
            let pending = Rc::clone(&pending);
            let answer = answer.clone();
            Closure::<dyn FnMut(web_sys::MessageEvent)>::new(move |e: web_sys::MessageEvent| {
                let Some(text) = e.data().as_string() else {
                    return;
                };
                match serde_json::from_str::<Response>(&text) {
                    Ok(Response::Ready) => {
                        for json in pending.borrow_mut().take().unwrap_or_default() {
                            let _ = worker.post_message(&JsValue::from_str(&json));
                        }
                        answer.emit(Response::Ready);
                    }
                    Ok(r) => answer.emit(r),
                    Err(e) => answer.emit(Response::Error {
                        message: format!("the page could not read the engine's answer: {e}"),
                    }),
                }
            })
        };
        worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        onmessage.forget();
        let onerror = {
            let answer = answer.clone();
            Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
                answer.emit(Response::Error {
                    message: "the engine's worker failed to load; reload the page".into(),
                });
            })
        };
        worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
        onerror.forget();
        Bridge::new(move |request| {
            let Ok(json) = serde_json::to_string(&request) else {
                return;
            };
            if let Some(queue) = pending.borrow_mut().as_mut() {
                queue.push(json);
                return;
            }
            let _ = worker.post_message(&JsValue::from_str(&json));
        })
    }))
}
