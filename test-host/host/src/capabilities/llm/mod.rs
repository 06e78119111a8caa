//! `fermyon:spin/llm@2.0.0`: inferencing and embeddings, run where the runtime config's
//! `[llm_compute]` says. With `type = "remote_http"` each call goes to that server in Spin's
//! protocol (`POST /infer`, `POST /embed`, JSON, a bearer token); without one, or with
//! `type = "spin"` (local models, which Rotor does not run), a call fails with a
//! `runtime-error` that says so. A component that imports the interface always loads.
//!
//! A component uses only the models its `ai_models` lists, as in Spin.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full, Limited};
use serde::{Deserialize, Serialize};
use wasmtime::component::Linker;
use wasmtime_wasi_http::RequestOptions;

use super::capability::{AppContext, Capability, ComponentContext, HasView, View};
use crate::manifest::runtime_config::LlmComputeConfig;
use bindings::fermyon::spin2_0_0::llm::{
    self, EmbeddingsResult, EmbeddingsUsage, Error, InferencingParams, InferencingResult,
    InferencingUsage,
};

/// Host bindings of `fermyon:spin/llm@2.0.0`, from `wit/`.
#[allow(missing_docs)]
pub mod bindings {
    wasmtime::component::bindgen!({
        path: "../../wit",
        world: "rotor:sdk/llm-host",
        imports: { default: async },
    });
}

/// The most an answer from the model server may hold.
const MAX_ANSWER: usize = 16 << 20;

/// How long the model server may take to answer.
const ANSWER_TIMEOUT: Duration = Duration::from_secs(120);

/// The parameters Spin infers with when the guest gives none.
const DEFAULT_PARAMS: InferencingParams = InferencingParams {
    max_tokens: 100,
    repeat_penalty: 1.1,
    repeat_penalty_last_n_token_count: 64,
    temperature: 0.8,
    top_k: 40,
    top_p: 0.9,
};

/// The LLM capability.
pub struct Llm;

/// What one component may use: the app's model server and its own `ai_models`.
pub struct LlmGrant {
    compute: Option<Arc<LlmComputeConfig>>,
    models: HashSet<String>,
}

impl Capability for Llm {
    type App = Option<Arc<LlmComputeConfig>>;
    type Grant = LlmGrant;

    fn load(app: &AppContext<'_>) -> anyhow::Result<Self::App> {
        Ok(app.runtime_config.llm_compute.clone().map(Arc::new))
    }

    fn grant(app: &Self::App, component: &ComponentContext<'_>) -> anyhow::Result<LlmGrant> {
        Ok(LlmGrant {
            compute: app.clone(),
            models: component.component.ai_models.iter().cloned().collect(),
        })
    }

    fn add_to_linker<T: Send + 'static>(
        linker: &mut Linker<T>,
        view: fn(&mut T) -> View<'_, LlmGrant>,
    ) -> wasmtime::Result<()> {
        llm::add_to_linker::<_, HasView<LlmGrant>>(linker, view)
    }
}

impl LlmGrant {
    /// The model server, once the component may use `model`.
    fn server(&self, model: &str) -> Result<(&str, &str), Error> {
        if !self.models.contains(model) {
            return Err(Error::InvalidInput(format!(
                "the component may not use model {model:?}: add it to the component's `ai_models` in spin.toml"
            )));
        }
        match self.compute.as_deref() {
            Some(LlmComputeConfig::RemoteHttp { url, auth_token }) => Ok((url, auth_token)),
            Some(LlmComputeConfig::Local) => Err(Error::RuntimeError(
                "Rotor runs no local models: set `[llm_compute] type = \"remote_http\"` in the runtime config".into(),
            )),
            None => Err(Error::RuntimeError(
                "no model server: give `rotor up` a runtime config with `[llm_compute] type = \"remote_http\"`, `url` and `auth_token`".into(),
            )),
        }
    }
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct InferOptions {
    max_tokens: u32,
    repeat_penalty: f32,
    repeat_penalty_last_n_token_count: u32,
    temperature: f32,
    top_k: u32,
    top_p: f32,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct InferAnswerUsage {
    prompt_token_count: u32,
    generated_token_count: u32,
}

#[derive(Deserialize)]
struct InferAnswer {
    text: String,
    usage: InferAnswerUsage,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct EmbedAnswerUsage {
    prompt_token_count: u32,
}

#[derive(Deserialize)]
struct EmbedAnswer {
    embeddings: Vec<Vec<f32>>,
    usage: EmbedAnswerUsage,
}

impl llm::Host for View<'_, LlmGrant> {
    async fn infer(
        &mut self,
        model: String,
        prompt: String,
        params: Option<InferencingParams>,
    ) -> Result<InferencingResult, Error> {
        let (url, token) = self.grant.server(&model)?;
        let params = params.unwrap_or(DEFAULT_PARAMS);
        let body = serde_json::json!({
            "model": model,
            "prompt": prompt,
            "options": InferOptions {
                max_tokens: params.max_tokens,
                repeat_penalty: params.repeat_penalty,
                repeat_penalty_last_n_token_count: params.repeat_penalty_last_n_token_count,
                temperature: params.temperature,
                top_k: params.top_k,
                top_p: params.top_p,
            },
        });
        let answer: InferAnswer = post(url, "/infer", token, &body).await?;
        Ok(InferencingResult {
            text: answer.text,
            usage: InferencingUsage {
                prompt_token_count: answer.usage.prompt_token_count,
                generated_token_count: answer.usage.generated_token_count,
            },
        })
    }

    async fn generate_embeddings(
        &mut self,
        model: String,
        text: Vec<String>,
    ) -> Result<EmbeddingsResult, Error> {
        let (url, token) = self.grant.server(&model)?;
        let body = serde_json::json!({ "model": model, "input": text });
        let answer: EmbedAnswer = post(url, "/embed", token, &body).await?;
        Ok(EmbeddingsResult {
            embeddings: answer.embeddings,
            usage: EmbeddingsUsage {
                prompt_token_count: answer.usage.prompt_token_count,
            },
        })
    }
}

/// POSTs `body` as JSON to `path` of the model server and reads its JSON answer.
async fn post<T: serde::de::DeserializeOwned>(
    url: &str,
    path: &str,
    token: &str,
    body: &serde_json::Value,
) -> Result<T, Error> {
    let failed = |what: String| Error::RuntimeError(format!("POST {path}: {what}"));
    let uri: http::Uri = format!("{url}{path}")
        .parse()
        .map_err(|e| failed(format!("bad URL: {e}")))?;
    let authority = uri.authority().map(|a| a.to_string()).unwrap_or_default();
    let request = http::Request::post(uri)
        .header(http::header::HOST, authority)
        .header(http::header::CONTENT_TYPE, "application/json")
        .header(http::header::AUTHORIZATION, format!("bearer {token}"))
        .body(Full::new(Bytes::from(body.to_string())).map_err(|never| match never {}))
        .map_err(|e| failed(e.to_string()))?;
    let options = RequestOptions {
        connect_timeout: Some(Duration::from_secs(10)),
        first_byte_timeout: Some(ANSWER_TIMEOUT),
        between_bytes_timeout: Some(ANSWER_TIMEOUT),
    };
    let (response, connection) = wasmtime_wasi_http::default_send_request(request, Some(options))
        .await
        .map_err(|e| failed(e.to_string()))?;
    let connection = tokio::spawn(connection);
    let status = response.status();
    let answer = Limited::new(response.into_body(), MAX_ANSWER)
        .collect()
        .await
        .map(|collected| collected.to_bytes());
    connection.abort();
    let answer = answer.map_err(|e| failed(format!("reading the answer: {e}")))?;
    if !status.is_success() {
        return Err(failed(format!(
            "the model server answered {status}: {}",
            String::from_utf8_lossy(&answer[..answer.len().min(512)])
        )));
    }
    serde_json::from_slice(&answer).map_err(|e| failed(format!("unreadable answer: {e}")))
}
