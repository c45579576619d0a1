//! The chayns user client's constructors: from explicit options, from npm chayns-api, or from
//! the legacy global `window.chayns`.

// The parent's imports and its private client type, which only its own modules build.
use super::*;

fn invalid(field: &'static str, why: &str) -> HailError {
    HailError::new(ErrorCode::InvalidRequest, format!("{field} {why}")).field(field)
}

/// The options every constructor takes.
const CLIENT_OPTIONS: &str = "baseUrl, timeoutMs, onAttempt";

/// A client on `host`, with `options` (`baseUrl?`, `timeoutMs?`) read from `options`.
fn client(host: Host, options: &JsValue) -> Result<ChaynsUserClient, HailError> {
    let base = get(options, "baseUrl");
    let base = match base.as_string() {
        Some(url) => BaseUrl::parse(&url)
            .map_err(|_| invalid("baseUrl", "must be an absolute http(s) URL"))?,
        None if base.is_undefined() || base.is_null() => {
            BaseUrl::parse(ChaynsUserApi::DEFAULT_BASE_URL)
                .map_err(|_| invalid("baseUrl", "has no default"))?
        }
        None => return Err(invalid("baseUrl", "must be a string")),
    };
    let on_attempt = get(options, "onAttempt");
    if !(on_attempt.is_undefined() || on_attempt.is_function()) {
        return Err(invalid("onAttempt", "must be a function"));
    }
    Ok(ChaynsUserClient {
        inner: Rc::new(Inner {
            host,
            base,
            timeout_ms: positive_ms(&get(options, "timeoutMs"), "timeoutMs")?
                .unwrap_or(DEFAULT_TIMEOUT_MS),
            on_attempt,
        }),
    })
}

/// `options`, when given, as an object with only `allowed` keys.
fn options_object(options: &JsValue, allowed: &str, what: &str) -> Result<(), HailError> {
    if options.is_undefined() || options.is_null() {
        return Ok(());
    }
    if !options.is_object() {
        return Err(invalid("options", "must be an object"));
    }
    known_options(options, allowed, what)
}

/// A client that sends chayns messages as the user with `accessToken` and `userId`, on site
/// `locationId`, straight to chayns (the user's own token needs no relay).
///
/// Throws a `HailError` with code `invalid_request` (and `field`) when an option is missing,
/// of the wrong type or unknown.
#[wasm_bindgen(js_name = createChaynsUserClient)]
pub fn create_chayns_user_client(
    #[wasm_bindgen(unchecked_param_type = "ChaynsUserClientOptions")] options: JsValue,
) -> Result<ChaynsUserClient, JsValue> {
    if !options.is_object() {
        return Err(invalid("options", "must be an object").into());
    }
    known_options(
        &options,
        "accessToken, userId, locationId, baseUrl, timeoutMs, onAttempt",
        "createChaynsUserClient",
    )?;
    let token = get(&options, "accessToken");
    if !token.is_function() {
        crate::web::call::token_text(token.clone()).map_err(|why| invalid("accessToken", why))?;
    }
    let id = |field| {
        chayns_id(&get(&options, field))
            .ok_or_else(|| invalid(field, "must be a chayns id (a whole number from 1)"))
    };
    let host = Host::Fixed {
        token,
        user_id: id("userId")?,
        location_id: id("locationId")?,
    };
    Ok(client(host, &options)?)
}

/// A client for the user of a chayns tapp built on npm `chayns-api` (3.x):
/// `import * as chayns from "chayns-api"; fromChaynsApi(chayns)`. The token, the user and the
/// site are asked for at every send; when chayns refuses the token, `refreshAccessToken()` (if
/// `api` has it) is called and the send is tried once more.
///
/// Throws a `HailError` with code `invalid_request` (and `field`) when an option is missing,
/// of the wrong type or unknown.
#[wasm_bindgen(js_name = fromChaynsApi)]
pub fn from_chayns_api(
    #[wasm_bindgen(unchecked_param_type = "ChaynsApiLike")] api: JsValue,
    #[wasm_bindgen(unchecked_optional_param_type = "ChaynsClientOptions")] options: Option<JsValue>,
) -> Result<ChaynsUserClient, JsValue> {
    let options = options.unwrap_or(JsValue::UNDEFINED);
    options_object(&options, CLIENT_OPTIONS, "fromChaynsApi")?;
    for name in ["getAccessToken", "getUser", "getSite"] {
        if !get(&api, name).is_function() {
            return Err(HailError::new(
                ErrorCode::InvalidRequest,
                format!(
                    "fromChaynsApi: the api has no {name}(): pass chayns-api itself \
                     (import * as chayns from \"chayns-api\"), or an object with \
                     getAccessToken, getUser, getSite"
                ),
            )
            .field(name)
            .into());
        }
    }
    let refresh = get(&api, "refreshAccessToken");
    if !(refresh.is_undefined() || refresh.is_function()) {
        return Err(invalid("refreshAccessToken", "must be a function").into());
    }
    Ok(client(Host::Api(api), &options)?)
}

/// A client for the user logged in to a legacy chayns tapp (the global `chayns.env` of chayns
/// JS API v4): reads `chayns.env.user.tobitAccessToken`, `chayns.env.user.id` and
/// `chayns.env.site.locationId` from `chayns` (default: the global `chayns`) at every send.
/// Tapps built on npm chayns-api have no `chayns.env`: use `fromChaynsApi`.
///
/// Throws a `HailError` with code `invalid_request` (and `field`) when an option is missing,
/// of the wrong type or unknown.
#[wasm_bindgen(js_name = fromChaynsEnv)]
pub fn from_chayns_env(
    #[wasm_bindgen(unchecked_optional_param_type = "ChaynsEnvironment")] chayns: Option<JsValue>,
    #[wasm_bindgen(unchecked_optional_param_type = "ChaynsClientOptions")] options: Option<JsValue>,
) -> Result<ChaynsUserClient, JsValue> {
    let options = options.unwrap_or(JsValue::UNDEFINED);
    options_object(&options, CLIENT_OPTIONS, "fromChaynsEnv")?;
    let chayns = chayns
        .filter(|c| !c.is_undefined() && !c.is_null())
        .unwrap_or_else(|| get(&js_sys::global(), "chayns"));
    if !get(&chayns, "env").is_object() {
        return Err(HailError::new(
            ErrorCode::InvalidRequest,
            "fromChaynsEnv: there is no chayns.env (the global of legacy tapps); a tapp built on \
             npm chayns-api uses fromChaynsApi: import * as chayns from \"chayns-api\"; \
             fromChaynsApi(chayns)",
        )
        .into());
    }
    Ok(client(Host::Env(chayns), &options)?)
}
