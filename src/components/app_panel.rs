//! The app panel: for each port a running container publishes, a small browser frame showing
//! what the modelled app answers to `GET /`, clearly marked as simulated.

use std::collections::BTreeMap;

use yew::prelude::*;

use crate::protocol::ContainerSummary;

/// Properties of [`AppPanel`].
#[derive(Properties, PartialEq)]
pub struct AppPanelProps {
    /// Published host ports and their modelled answers (`Err` is what curl would say).
    pub pages: BTreeMap<u16, Result<String, String>>,
    /// The containers, to name who answers on each port.
    pub containers: Vec<ContainerSummary>,
    /// Asks the engine again for a port's page.
    pub onreload: Callback<u16>,
}

/// The app panel.
#[function_component(AppPanel)]
pub fn app_panel(props: &AppPanelProps) -> Html {
    html! {
        <section class="panel app-panel" aria-label="Published apps">
            <h2>{ "Apps" }<span class="note">{ "simulated: no real server runs" }</span></h2>
            if props.pages.is_empty() {
                <p class="empty">{ "No running container publishes a port yet. Try " }
                    <code>{ "docker run -d -p 3000:3000 --name web my-app" }</code>{ "." }</p>
            }
            { for props.pages.iter().map(|(port, body)| {
                let port = *port;
                let who = props.containers.iter().find(|c| c.ports.contains(&port))
                    .map(|c| format!("{} ({})", c.name, c.image)).unwrap_or_default();
                let onreload = props.onreload.reform(move |_| port);
                html! {
                    <figure class="browser" data-port={port.to_string()}>
                        <figcaption>
                            <button class="reload" onclick={onreload} title="Ask again"
                                aria-label={format!("Reload localhost:{port}")}>{ "↻" }</button>
                            <span class="address">{ format!("http://localhost:{port}/") }</span>
                            <span class="badge">{ "simulated" }</span>
                        </figcaption>
                        { match body {
                            Ok(text) => html! { <pre class="page">{ text }</pre> },
                            Err(e) => html! { <pre class="page error">{ format!("curl: (7) {e}") }</pre> },
                        } }
                        <p class="who">{ format!("modelled answer of {who}") }</p>
                    </figure>
                }
            }) }
        </section>
    }
}
