//! Simulated mluvii: client-credentials tokens (a request without a valid one is redirected to
//! the login page, as mluvii does) and the WhatsApp API. Answers are camelCase, as mluvii's own
//! sample integration reads them (`MluviiApiJsonSerializerSettings.cs`, `shared/VENDORS.md`);
//! sent messages carry mluvii's `DeliveryState` names (`Sessions/DeliveryState.cs`).

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use hail::vendors::mluvii::{
    token, webhook, whatsapp_send_templates, whatsapp_sent_templates, whatsapp_subscriptions,
};
use serde_json::{json, Value};

use super::sim::{route, Received, Sim};
use super::{MLUVII_CLIENT_ID, MLUVII_CLIENT_SECRET, MLUVII_SUBSCRIPTION};

pub(super) fn routes() -> Router<Arc<Sim>> {
    let r = route(Router::new(), token::CALL, issue_token);
    let r = route(r, whatsapp_subscriptions::CALL, subscriptions);
    let r = route(r, whatsapp_send_templates::CALL, send_templates);
    let r = route(r, whatsapp_sent_templates::CALL, sent_templates);
    let r = route(r, webhook::REGISTER, register_webhook);
    route(r, webhook::UPDATE, update_webhook)
}

/// Registers a webhook: `{"EventTypes", "CallbackUrl"}` (PascalCase or camelCase, as ASP.NET
/// binds either); a URL registered already is 409 with that webhook's id (VENDORS.md).
async fn register_webhook(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    let req = Received::read(req).await;
    if let Some(redirect) = login_redirect(&sim, &req) {
        return redirect;
    }
    let body = req.json().map(hail_lower).unwrap_or(Value::Null);
    let (Some(url), Some(events)) = (body["callbackurl"].as_str(), body["eventtypes"].as_array())
    else {
        let answer = json!({ "message": "EventTypes and CallbackUrl are required" });
        return req.answer(&sim, "mluvii", StatusCode::BAD_REQUEST, &answer);
    };
    let mut hooks = sim
        .mluvii_webhooks
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let (status, answer) = match hooks.iter().find(|h| h["callbackUrl"] == url) {
        Some(existing) => (StatusCode::CONFLICT, json!({ "id": existing["id"] })),
        None => {
            let hook = json!({ "id": sim.id(), "callbackUrl": url, "eventTypes": events });
            hooks.push(hook.clone());
            (StatusCode::OK, hook)
        }
    };
    drop(hooks);
    req.answer(&sim, "mluvii", status, &answer)
}

/// Updates webhook `id`.
async fn update_webhook(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<u64>,
    req: Request,
) -> Response {
    let req = Received::read(req).await;
    if let Some(redirect) = login_redirect(&sim, &req) {
        return redirect;
    }
    let body = req.json().map(hail_lower).unwrap_or(Value::Null);
    let mut hooks = sim
        .mluvii_webhooks
        .lock()
        .unwrap_or_else(|p| p.into_inner());
    let (status, answer) = match hooks.iter_mut().find(|h| h["id"].as_u64() == Some(id)) {
        Some(hook) => {
            hook["eventTypes"] = body["eventtypes"].clone();
            hook["callbackUrl"] = body["callbackurl"].clone();
            (StatusCode::OK, hook.clone())
        }
        None => (
            StatusCode::NOT_FOUND,
            json!({ "message": "Webhook not found" }),
        ),
    };
    drop(hooks);
    req.answer(&sim, "mluvii", status, &answer)
}

/// `value` with every object key in lower case (ASP.NET binds names case-insensitively).
fn hail_lower(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (k.to_ascii_lowercase(), hail_lower(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(hail_lower).collect()),
        other => other,
    }
}

/// mluvii's delivery states of a sent message (`Sessions/DeliveryState.cs`).
pub const DELIVERY_STATES: [&str; 5] = [
    "Sent",
    "SendingFailed",
    "DeliveryFailed",
    "Delivered",
    "Read",
];

async fn issue_token(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    let req = Received::read(req).await;
    let form: Vec<(String, String)> = form_urlencoded::parse(&req.body).into_owned().collect();
    let value = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let ok = value("grant_type") == Some("client_credentials")
        && value("client_id") == Some(MLUVII_CLIENT_ID)
        && value("client_secret") == Some(MLUVII_CLIENT_SECRET);
    if !ok {
        return (
            StatusCode::BAD_REQUEST,
            axum::Json(json!({ "error": "invalid_client" })),
        )
            .into_response();
    }
    let token = format!("sbx-mluvii-token-{}", sim.id());
    sim.tokens
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(token.clone());
    // Token requests are no deliveries: not recorded in the outbox.
    axum::Json(json!({ "access_token": token, "expires_in": 3600, "token_type": "Bearer", "scope": "api" })).into_response()
}

/// `None` when the bearer token is valid, else mluvii's redirect to its login page.
fn login_redirect(sim: &Sim, req: &Received) -> Option<Response> {
    let token = req
        .header("authorization")
        .and_then(|a| a.strip_prefix("Bearer "));
    let valid = token.is_some_and(|t| {
        sim.tokens
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .contains(t)
    });
    (!valid).then(|| {
        (
            StatusCode::FOUND,
            [(header::LOCATION, "/login?ReturnUrl=%2Fapi")],
        )
            .into_response()
    })
}

async fn subscriptions(State(sim): State<Arc<Sim>>, req: Request) -> Response {
    let req = Received::read(req).await;
    if let Some(redirect) = login_redirect(&sim, &req) {
        return redirect;
    }
    axum::Json(
        json!([{ "id": MLUVII_SUBSCRIPTION, "departmentId": 1, "name": "Sandbox WhatsApp",
                        "phoneNumber": "+420800123456", "status": "Active" }]),
    )
    .into_response()
}

async fn send_templates(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let req = Received::read(req).await;
    if let Some(redirect) = login_redirect(&sim, &req) {
        return redirect;
    }
    let body = req.json().unwrap_or(Value::Null);
    let recipients = body["recipients"].as_array().cloned().unwrap_or_default();
    let (status, answer) = if !id.eq_ignore_ascii_case(MLUVII_SUBSCRIPTION) {
        (
            StatusCode::NOT_FOUND,
            json!({ "message": "Subscription not found" }),
        )
    } else if !body["formID"].is_u64() || !body["language"].is_string() || recipients.is_empty() {
        (
            StatusCode::BAD_REQUEST,
            json!({ "message": "formID, language and recipients are required" }),
        )
    } else {
        let mut sent = sim.sent.lock().unwrap_or_else(|p| p.into_inner());
        let list = sent.entry(id.to_ascii_lowercase()).or_default();
        for r in &recipients {
            list.push(json!({ "contactId": r["contactId"], "formId": body["formID"], "language": body["language"],
                              "state": DELIVERY_STATES[0] }));
        }
        (StatusCode::OK, json!({ "accepted": recipients.len() }))
    };
    req.answer(&sim, "mluvii", status, &answer)
}

async fn sent_templates(
    State(sim): State<Arc<Sim>>,
    Path(id): Path<String>,
    req: Request,
) -> Response {
    let req = Received::read(req).await;
    if let Some(redirect) = login_redirect(&sim, &req) {
        return redirect;
    }
    let query: Vec<(String, String)> =
        form_urlencoded::parse(req.uri.query().unwrap_or("").as_bytes())
            .into_owned()
            .collect();
    let number = |name: &str, default: usize| {
        query
            .iter()
            .find(|(k, _)| k == name)
            .and_then(|(_, v)| v.parse().ok())
            .unwrap_or(default)
    };
    let sent = sim.sent.lock().unwrap_or_else(|p| p.into_inner());
    let list = sent
        .get(&id.to_ascii_lowercase())
        .cloned()
        .unwrap_or_default();
    let page: Vec<Value> = list
        .into_iter()
        .skip(number("offset", 0))
        .take(number("limit", 100))
        .collect();
    axum::Json(Value::Array(page)).into_response()
}
