//! `fermyon:spin/llm@2.0.0`: inferencing and embeddings, run where the runtime config's
//! `[llm_compute]` says. With `type = "remote_http"` each call goes to that server with a
//! bearer token, in Spin's protocol (`POST /infer`, `POST /embed`) or, with
//! `api_type = "open_ai"`, OpenAI's (`POST /v1/chat/completions`, `POST /v1/embeddings`),
//! as Spin sends them; without one, or with
//! `type = "spin"` (local models, which Rotor does not run), a call fails with a
//! `runtime-error` that says so. A component that imports the interface always loads.
//!
//! A component uses only the models its `ai_models` lists, as in Spin.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use serde::Deserialize;
use wasmtime::component::Linker;
use wasmtime_wasi_http::RequestOptions;

use super::capability::{AppContext, Capability, ComponentContext, HasView, View};
use crate::engine::http_client::send_and_read;
use crate::manifest::runtime_config::{LlmApi, LlmComputeConfig};
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
    fn server(&self, model: &str) -> Result<Server<'_>, Error> {
        if !self.models.contains(model) {
            return Err(Error::InvalidInput(format!(
                "the component may not use model {model:?}: add it to the component's `ai_models` in spin.toml"
            )));
        }
        match self.compute.as_deref() {
            Some(LlmComputeConfig::RemoteHttp {
                url,
                auth_token,
                api,
            }) => Ok(Server {
                url,
                token: auth_token.expose(),
                api: *api,
            }),
            Some(LlmComputeConfig::Local) => Err(Error::RuntimeError(
                "Rotor runs no local models: set `[llm_compute] type = \"remote_http\"` in the runtime config".into(),
            )),
            None => Err(Error::RuntimeError(
                "no model server: give `rotor up` a runtime config with `[llm_compute] type = \"remote_http\"`, `url` and `auth_token`".into(),
            )),
        }
    }
}

/// A configured model server.
struct Server<'a> {
    url: &'a str,
    token: &'a str,
    api: LlmApi,
}

impl llm::Host for View<'_, LlmGrant> {
    async fn infer(
        &mut self,
        model: String,
        prompt: String,
        params: Option<InferencingParams>,
    ) -> Result<InferencingResult, Error> {
        let server = self.grant.server(&model)?;
        let params = params.unwrap_or(DEFAULT_PARAMS);
        match server.api {
            LlmApi::Spin => {
                let body = serde_json::json!({
                    "model": model,
                    "prompt": prompt,
                    "options": {
                        "maxTokens": params.max_tokens,
                        "repeatPenalty": params.repeat_penalty,
                        "repeatPenaltyLastNTokenCount": params.repeat_penalty_last_n_token_count,
                        "temperature": params.temperature,
                        "topK": params.top_k,
                        "topP": params.top_p,
                    },
                });
                let answer: SpinInferAnswer = server.post("/infer", &body).await?;
                Ok(InferencingResult {
                    text: answer.text,
                    usage: InferencingUsage {
                        prompt_token_count: answer.usage.prompt_token_count,
                        generated_token_count: answer.usage.generated_token_count,
                    },
                })
            }
            LlmApi::OpenAi => {
                // Spin sends what OpenAI's chat API has of the parameters, no more.
                let body = serde_json::json!({
                    "messages": [{ "role": "user", "content": prompt }],
                    "model": model,
                    "max_completion_tokens": params.max_tokens,
                    "frequency_penalty": params.repeat_penalty,
                });
                let answer: OpenAiAnswer<OpenAiChat> =
                    server.post("/v1/chat/completions", &body).await?;
                let chat = answer.into_result()?;
                Ok(InferencingResult {
                    text: chat
                        .choices
                        .into_iter()
                        .next()
                        .map(|choice| choice.message.content)
                        .unwrap_or_default(),
                    usage: InferencingUsage {
                        prompt_token_count: chat.usage.prompt_tokens,
                        generated_token_count: chat.usage.completion_tokens,
                    },
                })
            }
        }
    }

    async fn generate_embeddings(
        &mut self,
        model: String,
        text: Vec<String>,
    ) -> Result<EmbeddingsResult, Error> {
        let server = self.grant.server(&model)?;
        match server.api {
            LlmApi::Spin => {
                let body = serde_json::json!({ "model": model, "input": text });
                let answer: SpinEmbedAnswer = server.post("/embed", &body).await?;
                Ok(EmbeddingsResult {
                    embeddings: answer.embeddings,
                    usage: EmbeddingsUsage {
                        prompt_token_count: answer.usage.prompt_token_count,
                    },
                })
            }
            LlmApi::OpenAi => {
                let body = serde_json::json!({ "input": text, "model": model });
                let answer: OpenAiAnswer<OpenAiEmbeddings> =
                    server.post("/v1/embeddings", &body).await?;
                let embeddings = answer.into_result()?;
                Ok(EmbeddingsResult {
                    embeddings: embeddings.data.into_iter().map(|d| d.embedding).collect(),
                    usage: EmbeddingsUsage {
                        prompt_token_count: embeddings.usage.prompt_tokens,
                    },
                })
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpinInferUsage {
    prompt_token_count: u32,
    generated_token_count: u32,
}

#[derive(Deserialize)]
struct SpinInferAnswer {
    text: String,
    usage: SpinInferUsage,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SpinEmbedUsage {
    prompt_token_count: u32,
}

#[derive(Deserialize)]
struct SpinEmbedAnswer {
    embeddings: Vec<Vec<f32>>,
    usage: SpinEmbedUsage,
}

/// An OpenAI answer: the result, or `{"error": {"message"}}`.
#[derive(Deserialize)]
#[serde(untagged)]
enum OpenAiAnswer<T> {
    Failure { error: OpenAiError },
    Success(T),
}

impl<T> OpenAiAnswer<T> {
    fn into_result(self) -> Result<T, Error> {
        match self {
            OpenAiAnswer::Success(result) => Ok(result),
            OpenAiAnswer::Failure { error } => Err(Error::RuntimeError(error.message)),
        }
    }
}

#[derive(Deserialize)]
struct OpenAiError {
    message: String,
}

#[derive(Deserialize)]
struct OpenAiChat {
    choices: Vec<OpenAiChoice>,
    usage: OpenAiChatUsage,
}

#[derive(Deserialize)]
struct OpenAiChoice {
    message: OpenAiMessage,
}

#[derive(Deserialize)]
struct OpenAiMessage {
    content: String,
}

#[derive(Deserialize)]
struct OpenAiChatUsage {
    completion_tokens: u32,
    prompt_tokens: u32,
}

#[derive(Deserialize)]
struct OpenAiEmbeddings {
    data: Vec<OpenAiEmbedding>,
    usage: OpenAiEmbeddingsUsage,
}

#[derive(Deserialize)]
struct OpenAiEmbedding {
    embedding: Vec<f32>,
}

#[derive(Deserialize)]
struct OpenAiEmbeddingsUsage {
    prompt_tokens: u32,
}

impl Server<'_> {
    /// POSTs `body` as JSON to `path` (from the server's root, as Spin joins it) and reads
    /// the JSON answer. An answer that is not `T` is a runtime error that quotes the start
    /// of it, with the status when it was not a success.
    async fn post<T: serde::de::DeserializeOwned>(
        &self,
        path: &str,
        body: &serde_json::Value,
    ) -> Result<T, Error> {
        let failed = |what: String| Error::RuntimeError(format!("POST {path}: {what}"));
        let base: http::Uri = self
            .url
            .parse()
            .map_err(|e| failed(format!("bad URL: {e}")))?;
        let authority = base.authority().map(|a| a.to_string()).unwrap_or_default();
        let uri = http::Uri::builder()
            .scheme(base.scheme_str().unwrap_or("http"))
            .authority(authority.as_str())
            .path_and_query(path)
            .build()
            .map_err(|e| failed(format!("bad URL: {e}")))?;
        let request = http::Request::post(uri)
            .header(http::header::HOST, authority)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(
                http::header::AUTHORIZATION,
                format!("bearer {}", self.token),
            )
            .body(Bytes::from(body.to_string()))
            .map_err(|e| failed(e.to_string()))?;
        let options = RequestOptions {
            connect_timeout: Some(Duration::from_secs(10)),
            first_byte_timeout: Some(ANSWER_TIMEOUT),
            between_bytes_timeout: Some(ANSWER_TIMEOUT),
        };
        let response = send_and_read(request, Some(options), MAX_ANSWER)
            .await
            .map_err(failed)?;
        let status = response.status();
        let answer = response.into_body();
        serde_json::from_slice(&answer).map_err(|e| {
            let start = String::from_utf8_lossy(&answer[..answer.len().min(512)]).into_owned();
            if status.is_success() {
                failed(format!("unreadable answer ({e}): {start}"))
            } else {
                failed(format!("the model server answered {status}: {start}"))
            }
        })
    }
}
