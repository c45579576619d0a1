//! Simulated chayns: the Backend API's Intercom and AccessToken, and the user API's messages.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Router;
use base64::Engine as _;
use hail::vendors::chayns::{access_token, intercom, BROADCAST, USER_MESSAGE};
use serde_json::{json, Value};

use super::sim::{route, Received, Sim};
use super::{CHAYNS_LOCATION_ID, CHAYNS_TAPP_ID, CHAYNS_TAPP_SECRET, CHAYNS_USERS};

pub(super) fn backend_routes() -> Router<Arc<Sim>> {
    let r = route(Router::new(), intercom::CALL, send_intercom);
    route(r, access_token::CALL, verify_token)
}

pub(super) fn user_routes() -> Router<Arc<Sim>> {
    let r = route(Router::new(), USER_MESSAGE, user_message);
    route(r, BROADCAST, broadcast)
}

/// chayns' error body `{"message", "errorGuid"}` (`shared/VENDORS.md`): a GUID, as chayns gives
/// one per error for its support.
fn error(status: StatusCode, message: &str) -> (StatusCode, Value) {
    (
        status,
        json!({ "message": message, "errorGuid": "5b1f3c8e-0000-4000-8000-00000000cafe" }),
    )
}

/// The sandbox user of a `Bearer` token: `(userId, firstName, lastName)`. The scheme is
/// case-insensitive (RFC 9110): chayns-api itself sends `bearer`.
fn user(req: &Received) -> Option<(u64, &'static str, &'static str)> {
    let (scheme, token) = req.header("authorization")?.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return None;
    }
    CHAYNS_USERS
        .iter()
        .find(|(t, ..)| *t == token)
        .map(|(_, id, first, last)| (*id, *first, *last))
}

async fn send_intercom(
    State(sim): State<Arc<Sim>>,
    Path(location): Path<String>,
    req: Request,
) -> Response {
    let req = Received::read(req).await;
    let (status, body) = check_intercom(&req, &location);
    req.answer(&sim, "chayns", status, &body)
}

fn check_intercom(req: &Received, location: &str) -> (StatusCode, Value) {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD
            .encode(format!("{CHAYNS_TAPP_ID}:{CHAYNS_TAPP_SECRET}"))
    );
    if req.header("authorization") != Some(expected.as_str()) {
        return error(StatusCode::UNAUTHORIZED, "Invalid Tapp credentials");
    }
    if location != CHAYNS_LOCATION_ID.to_string() {
        return error(
            StatusCode::FORBIDDEN,
            "The Tapp does not belong to this location",
        );
    }
    let Some(body) = req.json() else {
        return error(StatusCode::BAD_REQUEST, "The body is not JSON");
    };
    if body["Message"].as_str().is_none_or(|m| m.trim().is_empty()) {
        return error(StatusCode::BAD_REQUEST, "Message is required");
    }
    let has = |k: &str| body[k].as_array().is_some_and(|a| !a.is_empty());
    let token_ok = body["UserAccessToken"]
        .as_str()
        .is_some_and(|t| CHAYNS_USERS.iter().any(|(u, ..)| *u == t));
    if body.get("UserAccessToken").is_some() && !token_ok {
        return error(StatusCode::UNAUTHORIZED, "UserAccessToken is invalid");
    }
    if !(has("UserIds") || has("UacIds") || has("ReceiverLocationIds") || token_ok) {
        return error(StatusCode::BAD_REQUEST, "At least one receiver is required");
    }
    (
        StatusCode::CREATED,
        json!({ "data": [{ "success": true }] }),
    )
}

async fn verify_token(Path(location): Path<String>, req: Request) -> Response {
    let req = Received::read(req).await;
    let (status, body) = match user(&req) {
        None => error(StatusCode::UNAUTHORIZED, "The token is invalid or expired"),
        Some(_) if location != CHAYNS_LOCATION_ID.to_string() => error(
            StatusCode::FORBIDDEN,
            "The token belongs to another location",
        ),
        Some((id, first, last)) => (
            StatusCode::OK,
            json!({ "data": [{
                "locationId": CHAYNS_LOCATION_ID, "userId": id, "personId": format!("SBX-{id}"),
                "firstName": first, "lastName": last, "tokenType": 1, "permissions": ["Intercom"]
            }] }),
        ),
    };
    // Token checks are no deliveries: not recorded in the outbox.
    (status, axum::Json(body)).into_response()
}

async fn user_message(
    State(sim): State<Arc<Sim>>,
    Path(sender): Path<u64>,
    req: Request,
) -> Response {
    let req = Received::read(req).await;
    let (status, body) = check_user_message(&req, Some(sender), "locationId|tobitId", 1);
    req.answer(&sim, "chayns-user", status, &body)
}

async fn broadcast(
    State(sim): State<Arc<Sim>>,
    Path(location): Path<u64>,
    req: Request,
) -> Response {
    let req = Received::read(req).await;
    let (status, body) = if location == CHAYNS_LOCATION_ID {
        check_user_message(&req, None, "groupId", 6)
    } else {
        error(StatusCode::FORBIDDEN, "Not a member of this location")
    };
    req.answer(&sim, "chayns-user", status, &body)
}

fn check_user_message(
    req: &Received,
    sender: Option<u64>,
    receivers: &str,
    type_id: u64,
) -> (StatusCode, Value) {
    let Some((user_id, ..)) = user(req) else {
        return error(StatusCode::UNAUTHORIZED, "The token is invalid or expired");
    };
    if sender.is_some_and(|s| s != user_id) {
        return error(StatusCode::FORBIDDEN, "The token belongs to another user");
    }
    let Some(body) = req.json() else {
        return error(StatusCode::BAD_REQUEST, "The body is not JSON");
    };
    let receiver_ok = body["receivers"][0].as_object().is_some_and(|r| {
        receivers
            .split('|')
            .any(|k| r.get(k).is_some_and(Value::is_u64))
    });
    if !receiver_ok || body["message"]["typeId"].as_u64() != Some(type_id) {
        return error(StatusCode::BAD_REQUEST, "receivers or typeId are wrong");
    }
    if body["message"]["text"]
        .as_str()
        .is_none_or(|t| t.trim().is_empty())
    {
        return error(StatusCode::BAD_REQUEST, "text is required");
    }
    (StatusCode::OK, json!({ "success": true }))
}
