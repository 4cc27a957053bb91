//! execd's code-context routes over the code interpreter (src/guest/execd/code-contexts.ts):
//! POST /code/context, GET and DELETE /code/contexts[?language=], GET and DELETE /code/contexts/{id}.
use http::Method;
use hyper::body::Incoming;
use serde::Deserialize;
use serde_json::{Value, json};

use super::Execd;
use super::code_interpreter::{InterpreterContext, delete_context, find_context, interpreter_json, list_contexts};
use super::errors::{ExecdError, ExecdResult};
use super::request::read_body;
use crate::error::Code;
use crate::http::query::Query;
use crate::http::respond::{self, HttpResponse};

#[derive(Deserialize)]
struct CreateContext {
    language: String,
    cwd: Option<String>,
}

fn view(c: &InterpreterContext) -> Value {
    json!({ "id": c.id, "language": c.language })
}

pub async fn create_context(execd: &Execd, body: Incoming) -> ExecdResult<HttpResponse> {
    let body: CreateContext = read_body(body).await?;
    if body.language.is_empty() {
        return Err(ExecdError::new(Code::InvalidArgument, "invalid request body: language: must not be empty"));
    }
    let mut request = json!({ "language": body.language });
    if let Some(cwd) = body.cwd.filter(|c| !c.is_empty()) {
        request["cwd"] = cwd.into();
    }
    let created: InterpreterContext = interpreter_json(execd, Method::POST, "/contexts", Some(&request)).await?;
    Ok(respond::json(200, &view(&created)))
}

async fn contexts_of(execd: &Execd, query: &Query) -> ExecdResult<Vec<InterpreterContext>> {
    let language = query.get("language").filter(|l| !l.is_empty());
    Ok(list_contexts(execd).await?.into_iter().filter(|c| language.is_none_or(|l| c.language == l)).collect())
}

pub async fn get_contexts(execd: &Execd, query: &Query) -> ExecdResult<HttpResponse> {
    let contexts = contexts_of(execd, query).await?;
    Ok(respond::json(200, &Value::Array(contexts.iter().map(view).collect())))
}

pub async fn delete_contexts(execd: &Execd, query: &Query) -> ExecdResult<HttpResponse> {
    for c in contexts_of(execd, query).await? {
        delete_context(execd, &c.id).await?;
    }
    Ok(respond::empty(200))
}

pub async fn get_context(execd: &Execd, id: &str) -> ExecdResult<HttpResponse> {
    Ok(respond::json(200, &view(&find_context(execd, id).await?)))
}

pub async fn delete_one_context(execd: &Execd, id: &str) -> ExecdResult<HttpResponse> {
    find_context(execd, id).await?;
    delete_context(execd, id).await?;
    Ok(respond::empty(200))
}
