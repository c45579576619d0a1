//! The generic operation handler: parse, validate, encode with the credential, call the vendor,
//! decode, answer in the relay protocol. It knows no vendor; `hail`'s definitions do.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use hail::operation::deserialize_request;
use hail::protocol::{self, Problem, Success, Upstream};
use hail::{ErrorCode, Operation, Vendor};

use crate::app::AppState;
use crate::problem::{new_request_id, ProblemResponse};

/// `POST /v1/{vendor}/{operation}` for operation `Op`.
pub async fn handle<Op: Operation>(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let request_id = new_request_id();
    match forward::<Op>(&state, &headers, &body, &request_id).await {
        Ok(response) => response,
        Err(problem) => ProblemResponse(problem).into_response(),
    }
}

async fn forward<Op: Operation>(
    state: &AppState,
    headers: &HeaderMap,
    body: &[u8],
    request_id: &str,
) -> Result<Response, Problem> {
    let problem = |code: ErrorCode, detail: &str| Problem::new(code, detail, request_id);

    if Op::SENDS {
        match headers.get(protocol::IDEMPOTENCY_KEY) {
            None => {
                return Err(problem(
                    ErrorCode::IdempotencyKeyMissing,
                    "this operation sends a message: send an Idempotency-Key header",
                ))
            }
            Some(key) if !protocol::is_valid_idempotency_key(key.as_bytes()) => {
                return Err(Problem {
                    field: Some("Idempotency-Key".to_owned()),
                    ..problem(
                        ErrorCode::InvalidRequest,
                        "Idempotency-Key must be 1 to 255 visible ASCII characters",
                    )
                })
            }
            Some(_) => {}
        }
    }

    let op = parse::<Op>(body).map_err(|v| {
        if v.field.is_empty() {
            problem(ErrorCode::InvalidRequest, &v.message)
        } else {
            Problem::invalid(vec![v], request_id)
        }
    })?;
    op.validate().map_err(|v| Problem::invalid(v, request_id))?;

    let mut last_status = StatusCode::OK;
    let Some(account) = state.accounts.get::<Op::Credential>() else {
        return Err(problem(
            ErrorCode::OperationDisabled,
            &format!(
                "{} is not configured on this relay",
                <Op::Vendor as Vendor>::NAME
            ),
        ));
    };
    let mut progress = Op::Progress::default();
    loop {
        let next = op
            .next_request(&progress, &account.base, &account.credential)
            .map_err(|e| {
                tracing::error!(operation = Op::ID, error = %e, "encoding the vendor request failed");
                problem(ErrorCode::Internal, "the vendor request could not be built")
            })?;
        let Some(vendor_request) = next else { break };
        let step = Op::step(&progress);
        let (status, body) = call_vendor(&account.client, vendor_request, Op::ID)
            .await
            .map_err(|(code, detail)| named_step(problem(code, detail), step))?;
        Op::record(&mut progress, status, &body).map_err(|upstream| {
            named_step(
                Problem {
                    upstream: Some(Upstream {
                        status: upstream.status,
                    }),
                    ..Problem::new(upstream.code, upstream.message, request_id)
                },
                step,
            )
        })?;
        last_status = status;
    }
    let data = Op::output(progress)
        .ok_or_else(|| problem(ErrorCode::Internal, "the operation ended without a result"))?;
    let body = serde_json::to_vec(&Success {
        data,
        upstream: Upstream {
            status: last_status.as_u16(),
        },
    })
    .map_err(|_| {
        problem(
            ErrorCode::Internal,
            "the vendor answer could not be encoded",
        )
    })?;
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    h.insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(id) = HeaderValue::from_str(request_id) {
        h.insert(protocol::REQUEST_ID, id);
    }
    Ok(response)
}

/// Prefixes the failed call's name to `detail` in multi-call operations.
fn named_step(mut problem: Problem, step: Option<&'static str>) -> Problem {
    if let Some(step) = step {
        problem.detail = format!("{step}: {}", problem.detail);
    }
    problem
}

/// One vendor call: status and body, or the code and detail of why there is none.
async fn call_vendor(
    client: &reqwest::Client,
    request: http::Request<Vec<u8>>,
    operation: &'static str,
) -> Result<(StatusCode, axum::body::Bytes), (ErrorCode, &'static str)> {
    let request = reqwest::Request::try_from(request)
        .map_err(|_| (ErrorCode::Internal, "the vendor request could not be built"))?;
    let started = std::time::Instant::now();
    let result = match client.execute(request).await {
        Ok(response) => {
            let status = response.status();
            response.bytes().await.map(|body| (status, body))
        }
        Err(e) => Err(e),
    };
    match result {
        Ok((status, body)) => {
            tracing::info!(
                operation,
                upstream_status = status.as_u16(),
                upstream_ms = started.elapsed().as_millis() as u64,
                "vendor answered"
            );
            Ok((status, body))
        }
        Err(e) => {
            tracing::warn!(operation, error = %without_url(&e), "vendor call failed");
            Err(if e.is_timeout() {
                (
                    ErrorCode::UpstreamTimeout,
                    "the vendor did not answer in time",
                )
            } else {
                (
                    ErrorCode::UpstreamUnavailable,
                    "the vendor could not be reached",
                )
            })
        }
    }
}

/// Parses a request body as operation `Op`; JSON syntax errors and a non-object body come back
/// with an empty field.
fn parse<Op: Operation>(body: &[u8]) -> Result<Op, hail::Violation> {
    // serde would also read a struct from a JSON array, by position: only objects are requests.
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(hail::Violation::new(
            "",
            hail::validate::rule::TYPE,
            "the body must be a JSON object",
        ));
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let op: Op = deserialize_request(&mut de).map_err(|v| {
        // Only on this error path: tell broken JSON (no field to blame) from a bad field.
        if serde_json::from_slice::<serde::de::IgnoredAny>(body).is_err() {
            hail::Violation::new("", hail::validate::rule::TYPE, "the body is not valid JSON")
        } else {
            v
        }
    })?;
    de.end().map_err(|_| {
        hail::Violation::new(
            "",
            hail::validate::rule::TYPE,
            "trailing data after the JSON object",
        )
    })?;
    Ok(op)
}

/// reqwest errors name the URL; the URL holds no secret but keep logs short and uniform.
fn without_url(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    if let Some(url) = e.url() {
        s = s.replace(url.as_str(), "<vendor>");
    }
    s
}
