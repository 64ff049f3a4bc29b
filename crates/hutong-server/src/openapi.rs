//! The OpenAPI 3.1 document of the JSON API, generated from the handlers' own descriptions.
//! The API's routes are registered through the same descriptions ([`api_router`]), so a route
//! cannot exist without being documented.
//!
//! The document describes what the service accepts, so that a request valid under it is
//! answered: the values that come from the policy in force (kind ids, occupation codes and their
//! levels, regions) are filled in from it ([`document`]), and the alternatives a request may take
//! (number + name, or number + ID number) are spelled out. Two rules are beyond JSON Schema and
//! are stated in the descriptions: an ID number's check character (GB 11643, ISO 7064 MOD 11-2)
//! and real birth date, and the order of a holding's dates.

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use utoipa::{OpenApi, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use hutong_core::Policy;
use hutong_core::ids::{Level, Status};
use hutong_core::number::NumberScheme;
use hutong_core::policy::Diploma;

use crate::handlers::{api, credential, log, recognition, share, write};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "hutong",
        description = "Public verification of China's vocational skill certificates and the one-stop query of a holder's certificates (一网通查). Answers never contain a resident ID number; holders' names are masked. Every error is an RFC 9457 problem document (`application/problem+json`, `type` `about:blank`, a stable `code`). Lookups are rate-limited per client (429 with Retry-After).",
        license(name = "Apache-2.0", identifier = "Apache-2.0")
    ),
    tags(
        (name = "verification", description = "Verify a certificate; list a holder's certificates"),
        (name = "recognition", description = "Mutual recognition: what certificates entitle their holder to at other departments (exemptions, deemed skill levels, the next level), with the rules and reasons"),
        (name = "watch", description = "Consented monitoring for employers: the status of every certificate the holders' share codes cover, in one request, and their changes by long poll (docs/watch.md)"),
        (name = "shares", description = "Share codes (用证码): a holder's opaque, expiring, revocable code that opens the verification result of one certificate or all of theirs, instead of a number and name in an address")
    ),
    components(schemas(VerifyQuery))
)]
struct ApiDoc;

/// The query of `GET /api/v1/verify`: a certificate number and a second factor, the holder's
/// name or resident ID number (or both).
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct VerifyQuery {
    /// The certificate number, as printed or typed (full-width digits and letters, letters in
    /// either case, spaces around and inside are read as their plain forms). When `kind` is
    /// given, a number of that kind's form.
    number: String,
    /// The holder's name: the second factor, unless `id` is given. At most 60 characters, no
    /// control characters.
    name: Option<String>,
    /// The holder's resident ID number (GB 11643: 18 characters, the last a check character),
    /// instead of or besides the name. Never echoed.
    id: Option<String>,
    /// A certificate kind id (`mem.electrical.low-voltage`), to verify one certificate when
    /// several kinds share the number.
    kind: Option<String>,
}

/// One certificate a worker holds (or held), as stated in `POST /api/v1/recognition/advice`.
/// A skill level certificate (`mohrss.skill-level`) carries its occupation and a level of that
/// occupation; other kinds carry neither. `status_since` is for a status that is not in force.
/// Dates are in order: `first_issued_on` ≤ `issued_on` ≤ `valid_until`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct HoldingInput {
    /// A certificate kind id of the policy.
    kind: String,
    /// The status as recorded or as the holder states it.
    status: String,
    /// When this certificate (or its current renewal) was issued.
    #[schema(value_type = Option<String>, format = Date)]
    issued_on: Option<String>,
    /// When the holder first obtained this kind of certificate (defaults to `issued_on`).
    #[schema(value_type = Option<String>, format = Date)]
    first_issued_on: Option<String>,
    /// The last day of validity.
    #[schema(value_type = Option<String>, format = Date)]
    valid_until: Option<String>,
    /// The last periodic review passed.
    #[schema(value_type = Option<String>, format = Date)]
    last_review_on: Option<String>,
    /// When an `expired`, `suspended` or `revoked` status took effect.
    #[schema(value_type = Option<String>, format = Date)]
    status_since: Option<String>,
    /// For skill level certificates: the occupation code.
    occupation: Option<String>,
    /// For skill level certificates: the level, one of the occupation's.
    level: Option<String>,
    /// The certificate number, echoed (masked when it is or embeds an ID number) in the grounds.
    #[schema(min_length = 1, max_length = 64)]
    number: Option<String>,
}

/// The body of `POST /api/v1/recognition/advice`: what a worker holds and has done.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AdviceRequest {
    /// The day the advice is for; today in China when absent.
    #[schema(value_type = Option<String>, format = Date)]
    as_of: Option<String>,
    /// The province (GB/T 2260 two-digit code) where the holder will apply, for regional rules.
    region: Option<String>,
    /// The certificates held, at most 100.
    #[schema(max_items = 100)]
    holdings: Vec<HoldingInput>,
    /// Whole years of work (0 to 100) in each occupation, by occupation code.
    experience_years: Option<BTreeMap<String, u8>>,
    /// Diplomas held.
    diplomas: Option<Vec<String>>,
    /// An apprenticeship in the occupation completed.
    apprenticeship: Option<bool>,
}

/// The body of `POST /api/v1/holders/advice`: a registered holder, and the advice options. The
/// holdings are the holder's registered certificates.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct HolderAdviceRequest {
    /// The holder's resident ID number. Never echoed.
    id: String,
    /// The holder's name.
    name: String,
    #[schema(value_type = Option<String>, format = Date)]
    as_of: Option<String>,
    region: Option<String>,
    experience_years: Option<BTreeMap<String, u8>>,
    diplomas: Option<Vec<String>>,
    apprenticeship: Option<bool>,
}

/// The body of `POST /api/v1/recognition/check`: a registered holder and the certificate they
/// apply for.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CheckRequest {
    /// The holder's resident ID number. Never echoed.
    id: String,
    /// The holder's name.
    name: String,
    /// The certificate kind applied for.
    target: String,
    #[schema(value_type = Option<String>, format = Date)]
    as_of: Option<String>,
    /// The province where the application is made, for regional exceptions.
    region: Option<String>,
    experience_years: Option<BTreeMap<String, u8>>,
    diplomas: Option<Vec<String>>,
    apprenticeship: Option<bool>,
}

/// A rule the advice names, with the certificate it rests on.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct Ground {
    /// The rule's id in `policy/recognition.toml`.
    rule: String,
    /// The kind held that grounds it.
    held: String,
    /// The held certificate's number (masked when it embeds an ID number).
    number: Option<String>,
    provisional: bool,
}

/// A skill level the holdings are deemed to give.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct DeemedLevelAnswer {
    occupation: String,
    occupation_zh: String,
    occupation_en: String,
    level: String,
    rules: Vec<String>,
    provisional: bool,
    /// Whether it counts (is above the level already held).
    counts: bool,
    held_level: Option<String>,
    #[schema(value_type = Vec<Object>)]
    grounds: Vec<Value>,
}

/// What the holder may be exempted from when applying for another kind of certificate.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct ApplicationAnswer {
    target: String,
    target_zh: String,
    target_en: String,
    department: String,
    /// `safety-training`, `theory-exam`.
    exemptions: Vec<String>,
    rules: Vec<String>,
    provisional: bool,
    already_held: bool,
    #[schema(value_type = Vec<Object>)]
    grounds: Vec<Value>,
    exceptions: Option<Vec<String>>,
    #[schema(value_type = Option<Vec<Object>>)]
    regional_exceptions: Option<Vec<Value>>,
}

/// The next skill level in an occupation, and when its conditions are met.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NextLevelAnswer {
    occupation: String,
    occupation_zh: String,
    occupation_en: String,
    level: String,
    current_level: String,
    /// `held` or `deemed`.
    basis: String,
    standard: Option<String>,
    eligible: bool,
    #[schema(value_type = Option<String>, format = Date)]
    eligible_from: Option<String>,
    conditions: Vec<String>,
    #[schema(value_type = Vec<Object>)]
    details: Vec<Value>,
    /// What the advice assumed, in English and in Chinese.
    assumptions: Vec<String>,
    assumptions_zh: Vec<String>,
    rules: Option<Vec<String>>,
    provisional: bool,
}

/// A rule that did not apply, and why.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct NotAppliedAnswer {
    rule: String,
    /// `exemption` or `deemed-level`.
    rule_type: String,
    held: String,
    number: Option<String>,
    reason: String,
    reason_zh: String,
    /// Stable codes of the reasons.
    #[schema(value_type = Vec<Object>)]
    why: Vec<Value>,
    provisional: bool,
}

/// The advice: deemed levels, applications with their exemptions, next levels, and every rule
/// that did not apply, each with the rules behind it.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct AdviceAnswer {
    #[schema(value_type = String, format = Date)]
    as_of: String,
    region: Option<String>,
    /// The digest of the policy the advice follows.
    policy: String,
    deemed_levels: Vec<DeemedLevelAnswer>,
    applications: Vec<ApplicationAnswer>,
    next_levels: Vec<NextLevelAnswer>,
    not_applied: Vec<NotAppliedAnswer>,
    #[schema(value_type = Vec<Object>)]
    open_questions: Vec<Value>,
}

/// The masked name of a registered holder.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct HolderName {
    /// Masked: `张*明`.
    name: String,
}

/// Advice from a registered holder's certificates. When the ID number and name open no
/// certificate, only `found: false`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct HolderAdviceAnswer {
    found: bool,
    #[schema(required = false)]
    holder: HolderName,
    /// How many registered certificates the advice rests on.
    #[schema(required = false)]
    certificates: u32,
    #[schema(required = false)]
    advice: AdviceAnswer,
}

/// What a department may grant an applicant for the target certificate. When the ID number and
/// name open no certificate, only `found: false`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct CheckAnswer {
    found: bool,
    #[schema(required = false, value_type = String, format = Date)]
    as_of: String,
    #[schema(required = false)]
    target: String,
    target_zh: Option<String>,
    target_en: Option<String>,
    department: Option<String>,
    /// `safety-training`, `theory-exam`; empty when none.
    #[schema(required = false)]
    exemptions: Vec<String>,
    #[schema(required = false)]
    already_held: bool,
    #[schema(required = false)]
    rules: Vec<String>,
    #[schema(required = false, value_type = Vec<Object>)]
    grounds: Vec<Value>,
    #[schema(required = false)]
    provisional: bool,
    #[schema(required = false)]
    not_applied: Vec<NotAppliedAnswer>,
    #[schema(required = false)]
    note: String,
    #[schema(required = false)]
    holder: HolderName,
}

/// The write routes (issuing, the lifecycle, histories, tokens, the policy) and their document.
pub fn write_router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let (router, mut doc) = OpenApiRouter::with_openapi(WriteDoc::openapi())
        .routes(routes!(write::issue))
        .routes(routes!(write::change))
        .routes(routes!(write::history))
        .routes(routes!(crate::handlers::feed::feed))
        .routes(routes!(crate::handlers::oversight::api))
        .routes(routes!(crate::handlers::exam::agree))
        .routes(routes!(write::create_token))
        .routes(routes!(write::revoke_token))
        .routes(routes!(write::change_issuer))
        .routes(routes!(credential::credential))
        .split_for_parts();
    // A policy folder is a few hundred kilobytes: that one body may be larger.
    let (policy, policy_doc) = OpenApiRouter::new()
        .routes(routes!(write::publish_policy))
        .split_for_parts();
    doc.merge(policy_doc);
    let policy = policy.layer(axum::extract::DefaultBodyLimit::max(
        crate::router::MAX_POLICY_BYTES,
    ));
    // So may a batch of certificates, and an exam session's results.
    let (batch, batch_doc) = OpenApiRouter::new()
        .routes(routes!(write::issue_batch))
        .routes(routes!(crate::handlers::exam::results))
        .split_for_parts();
    doc.merge(batch_doc);
    let batch = batch.layer(axum::extract::DefaultBodyLimit::max(
        crate::router::MAX_BATCH_BYTES,
    ));
    (router.merge(policy).merge(batch), doc)
}

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
        let c = doc.components.get_or_insert_with(Default::default);
        c.add_security_scheme(
            "bearer",
            SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)),
        );
    }
}

#[derive(OpenApi)]
#[openapi(
    tags(
        (name = "writes", description = "Issuing and the lifecycle by issuers, the register's tokens and policy, each within the bearer token's rights and journaled"),
        (name = "credentials", description = "Signed W3C Verifiable Credentials of certificates, the public keys file, and verification"),
    ),
    modifiers(&BearerAuth)
)]
struct WriteDoc;

/// The `/api/v1` routes and their document (before the policy's values are filled in).
pub fn api_router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    let router = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(api::verify, api::verify_post))
        .routes(routes!(
            api::holder_certificates,
            api::holder_certificates_post
        ))
        .routes(routes!(recognition::advice))
        .routes(routes!(recognition::holder_advice))
        .routes(routes!(recognition::check))
        .routes(routes!(credential::keys))
        .routes(routes!(credential::verify_credential))
        .routes(routes!(share::create))
        .routes(routes!(share::list))
        .routes(routes!(share::revoke))
        .routes(routes!(share::show))
        .routes(routes!(share::credentials));
    // An employer's list of share codes may be 10,000 long: these bodies may be larger.
    let (watch, watch_doc) = OpenApiRouter::new()
        .routes(routes!(crate::handlers::watch::status))
        .routes(routes!(crate::handlers::watch::changes))
        .routes(routes!(crate::handlers::watch::create_webhook))
        .routes(routes!(crate::handlers::watch::revoke_webhook))
        .split_for_parts();
    let (router, mut doc) = router.split_for_parts();
    doc.merge(watch_doc);
    let watch = watch.layer(axum::extract::DefaultBodyLimit::max(
        crate::handlers::watch::MAX_WATCH_BYTES,
    ));
    (router.merge(watch), doc)
}

#[derive(OpenApi)]
#[openapi(tags((name = "log", description = "The transparency log: inclusion and consistency proofs as JSON, for clients that do not read the C2SP tiles at /log/tile/ (docs/transparency-log.md)")))]
struct LogDoc;

/// The JSON routes of the transparency log and their document. (The C2SP endpoints under
/// `/log/` serve text and bytes, and are not in the document.)
pub fn log_router() -> (Router<AppState>, utoipa::openapi::OpenApi) {
    OpenApiRouter::with_openapi(LogDoc::openapi())
        .routes(routes!(log::inclusion))
        .routes(routes!(log::consistency))
        .split_for_parts()
}

/// Whitespace that the service trims around a value (Rust's `char::is_whitespace`), as a
/// regular-expression class body.
const WS: &str = "\\t\\n\\u000b\\u000c\\r \\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000";
/// Control characters (`char::is_control`), as a class body.
const CTRL: &str = "\\u0000-\\u001f\\u007f-\\u009f";

/// One character of a number or an ID number as people may type it
/// (`hutong_core::number::normalize`): one of `class` (a class body of ASCII characters, `-`
/// only between two of them) in either width, then any whitespace.
fn typed(class: &str) -> String {
    let full_width: String = class
        .chars()
        .map(|c| match c {
            '-' => "-".to_string(),
            '!'..='~' => format!("\\u{:04x}", c as u32 + 0xFEE0),
            other => other.to_string(),
        })
        .collect();
    format!("[{class}{full_width}][{WS}]*")
}

/// The digits of `digits`, each as [`typed`].
fn typed_str(digits: &str) -> String {
    digits.chars().map(|c| typed(&c.to_string())).collect()
}

fn times(atom: &str, n: usize) -> String {
    format!("(?:{atom}){{{n}}}")
}

fn either(alternatives: &[String]) -> String {
    format!("(?:{})", alternatives.join("|"))
}

/// A whole value made of [`typed`] characters (each of which ends with any whitespace),
/// after any whitespace.
fn typed_value(core: &str) -> String {
    format!("^[{WS}]*{core}$")
}

/// The shape of a resident ID number, as people may type it. Beyond what a pattern can say:
/// the birth date is a real day, not in the future, and the check character is the one ISO
/// 7064 MOD 11-2 gives for the first 17 digits.
fn id_core() -> String {
    let d = typed("0-9");
    [
        typed("1-8"),
        times(&d, 5),
        either(&[typed_str("19"), typed_str("20")]),
        times(&d, 2),
        either(&[typed("0") + &typed("1-9"), typed("1") + &typed("0-2")]),
        either(&[
            typed("0") + &typed("1-9"),
            typed("12") + &d,
            typed("3") + &typed("01"),
        ]),
        times(&d, 3),
        typed("0-9Xx"),
    ]
    .concat()
}

/// How numbers and ID numbers may be typed, for descriptions.
const AS_TYPED: &str = "full-width digits and letters, lower-case letters, and spaces around and inside (the ideographic space too) are read as their plain forms";

/// What a pattern cannot say about an ID number.
const ID_RULES: &str = "the birth date (characters 7-14) is a real day from 1900 to today, and the last character is the check character ISO 7064 MOD 11-2 gives for the first 17 (GB 11643)";

fn id_schema() -> Value {
    json!({
        "type": "string",
        "pattern": typed_value(&id_core()),
        "description": format!("A resident ID number: 18 characters ({AS_TYPED}); {ID_RULES}. Never echoed."),
    })
}

fn name_schema() -> Value {
    json!({
        "type": "string",
        "pattern": format!("^[{WS}]*[^{WS}{CTRL}](?:[^{CTRL}]{{0,58}}[^{WS}{CTRL}])?[{WS}]*$"),
        "description": "The holder's name: 1 to 60 characters, no control characters; spaces around are ignored.",
    })
}

/// The schema of a certificate number of `scheme`, as people may type it ([`typed`]).
fn number_schema(scheme: NumberScheme) -> Value {
    let d = typed("0-9");
    match scheme {
        NumberScheme::MemTId => json!({
            "type": "string", "pattern": typed_value(&(typed("Tt") + &id_core())),
            "description": format!("T and the holder's resident ID number ({AS_TYPED}), where {ID_RULES}"),
        }),
        NumberScheme::ResidentId => json!({
            "type": "string", "pattern": typed_value(&id_core()),
            "description": format!("the holder's resident ID number ({AS_TYPED}), where {ID_RULES}"),
        }),
        NumberScheme::MohurdProvincial => {
            let year = either(&[
                typed_str("198") + &d,
                typed_str("199") + &d,
                typed_str("20") + &times(&d, 2),
                typed_str("2100"),
            ]);
            // The abbreviation: no ASCII, no whitespace, and no full-width form (which would be
            // read as ASCII).
            let abbr = format!("[^\\u0000-\\u007f{WS}\\uff01-\\uff5e][{WS}]*");
            json!({
                "type": "string",
                "pattern": typed_value(&format!("{abbr}{}{}{year}{}", typed("A-Za-z"), times(&d, 2), times(&d, 6))),
                "description": format!("a province abbreviation, a city letter, the work-type code, the year of issue and a serial (粤A012024000001; {AS_TYPED})"),
            })
        }
        NumberScheme::SkillLevel22 => json!({
            "type": "string",
            "pattern": typed_value(&format!("{}{}{}{}", typed("YySs"), times(&d, 14), typed("1-5"), times(&d, 6))),
            "description": format!("22 characters: Y or S, 14 digits, the level digit 1-5, 6 digits ({AS_TYPED})"),
        }),
        NumberScheme::Free => {
            // Letters, digits, hyphens and any other character beyond ASCII but whitespace,
            // where a full-width form counts as the ASCII one it stands for.
            let beyond = "\\u0080-\\u0084\\u0086-\\u009f\\u00a1-\\u167f\\u1681-\\u1fff\\u200b-\\u2027\\u202a-\\u202e\\u2030-\\u205e\\u2060-\\u2fff\\u3001-\\uff00\\uff5f-\\uffff";
            json!({
                "type": "string",
                "pattern": typed_value(&format!(
                    "(?:[0-9A-Za-z\\-\\uff10-\\uff19\\uff21-\\uff3a\\uff41-\\uff5a\\uff0d{beyond}][{WS}]*){{4,40}}"
                )),
                "description": format!("4 to 40 letters, digits or hyphens ({AS_TYPED})"),
            })
        }
    }
}

fn ids<'a>(it: impl IntoIterator<Item = &'a str>) -> Value {
    Value::Array(it.into_iter().map(|s| json!(s)).collect())
}

/// `schema`, or null.
fn nullable(mut schema: Value) -> Value {
    if let Some(e) = schema.get_mut("enum").and_then(Value::as_array_mut) {
        e.push(Value::Null);
    }
    match schema.get_mut("type") {
        Some(Value::String(t)) => {
            let t = t.clone();
            schema["type"] = json!([t, "null"]);
        }
        _ => schema = json!({"oneOf": [schema, {"type": "null"}]}),
    }
    schema
}

/// The schemes of the policy's kinds, with the kinds of each.
fn schemes(policy: &Policy) -> Vec<(NumberScheme, Vec<&str>)> {
    NumberScheme::ALL
        .iter()
        .map(|s| {
            let kinds: Vec<&str> = policy
                .kinds
                .values()
                .filter(|k| k.number_scheme == *s)
                .map(|k| k.id.as_str())
                .collect();
            (*s, kinds)
        })
        .filter(|(_, k)| !k.is_empty())
        .collect()
}

/// A blank value, which the service takes for an absent one.
fn blank() -> Value {
    json!({"type": "string", "pattern": format!("^[{WS}]*$")})
}

/// The query of `verify`: the number (of the kind's form when `kind` is given) and at least one
/// second factor.
fn verify_query_schema(policy: &Policy, base: &Value) -> Value {
    let schemes = schemes(policy);
    let mut s = base.clone();
    // (A national e-licence identifier is accepted too, as the description says; it is left out
    // of the patterns, whose generated examples could not carry its check character.)
    let any_number: Vec<Value> = schemes.iter().map(|(sc, _)| number_schema(*sc)).collect();
    s["properties"]["number"] =
        json!({"anyOf": any_number, "description": base["properties"]["number"]["description"]});
    // An empty (or blank) parameter is an absent one.
    let blank = blank();
    // A query string carries text: the text of a number or a boolean is a name as good as any,
    // and a null is sent as nothing or as the name "null".
    s["properties"]["name"] = json!({"anyOf": [
        name_schema(),
        blank,
        {"type": ["null", "boolean", "number", "integer"]},
    ]});
    s["properties"]["id"] = json!({"anyOf": [id_schema(), blank]});
    s["properties"]["kind"] = json!({
        "anyOf": [{"type": "string", "enum": ids(policy.kinds.keys().map(String::as_str))}, blank],
        "description": base["properties"]["kind"]["description"],
    });
    // A number of some scheme, and when `kind` is given, of that kind's scheme: each
    // alternative ties the kinds of one scheme to its numbers (without `kind`, only the number
    // counts).
    let mut by_kind: Vec<Value> =
        vec![json!({"properties": {"kind": {"anyOf": [blank, {"type": "null"}]}}})];
    for (sc, kinds) in &schemes {
        by_kind.push(json!({
            "properties": {"kind": {"type": "string", "enum": ids(kinds.iter().copied())}, "number": number_schema(*sc)},
        }));
    }
    s["allOf"] = json!([
        {"anyOf": [
            {"required": ["name"], "properties": {"name": name_schema()}},
            {"required": ["id"], "properties": {"id": id_schema()}},
        ]},
        {"anyOf": by_kind},
    ]);
    s
}

/// The holdings the policy can advise on: a kind that is not a skill level certificate with no
/// occupation or level, or a skill level certificate with an occupation and one of its levels;
/// `status_since` only with a status that is not in force.
fn holding_schema(policy: &Policy, base: &Value) -> Value {
    let plain: Vec<&str> = policy
        .kinds
        .values()
        .filter(|k| !k.skill_level)
        .map(|k| k.id.as_str())
        .collect();
    let skill: Vec<&str> = policy
        .kinds
        .values()
        .filter(|k| k.skill_level)
        .map(|k| k.id.as_str())
        .collect();
    // Occupations grouped by their levels.
    let mut by_levels: BTreeMap<Vec<&str>, Vec<&str>> = BTreeMap::new();
    for o in policy.occupations.values() {
        let levels: Vec<&str> = o.levels.iter().map(|l| l.id()).collect();
        by_levels.entry(levels).or_default().push(o.code.as_str());
    }
    let in_force: Vec<&str> = Status::ALL
        .iter()
        .filter(|s| s.is_in_force())
        .map(|s| s.id())
        .collect();
    let not_in_force: Vec<&str> = Status::ALL
        .iter()
        .filter(|s| !s.is_in_force())
        .map(|s| s.id())
        .collect();
    let null = json!({"type": "null"});
    let mut variants = Vec::new();
    let mut kinds_shapes: Vec<(Value, Value, Value)> = Vec::new();
    if !plain.is_empty() {
        kinds_shapes.push((
            json!({"type": "string", "enum": ids(plain.iter().copied())}),
            null.clone(),
            null.clone(),
        ));
    }
    if !skill.is_empty() {
        for (levels, occs) in &by_levels {
            kinds_shapes.push((
                json!({"type": "string", "enum": ids(skill.iter().copied())}),
                json!({"type": "string", "enum": ids(occs.iter().copied())}),
                json!({"type": "string", "enum": ids(levels.iter().copied())}),
            ));
        }
    }
    for (kind, occupation, level) in &kinds_shapes {
        for (statuses, since) in [
            (&in_force, null.clone()),
            (&not_in_force, base["properties"]["status_since"].clone()),
        ] {
            let mut v = base.clone();
            v["properties"]["kind"] = kind.clone();
            v["properties"]["status"] = json!({"type": "string", "enum": ids(statuses.iter().copied()), "description": base["properties"]["status"]["description"]});
            v["properties"]["status_since"] = since;
            let skill_level = !occupation["enum"].is_null();
            v["properties"]["occupation"] = occupation.clone();
            v["properties"]["level"] = level.clone();
            let mut required = vec!["kind", "status"];
            if skill_level {
                required.extend(["occupation", "level"]);
            }
            v["required"] = json!(required);
            v["additionalProperties"] = json!(false);
            if let Some(o) = v.as_object_mut() {
                o.remove("description");
            }
            variants.push(v);
        }
    }
    json!({
        "description": base["description"],
        "oneOf": variants,
    })
}

/// The advice options shared by the three recognition bodies, from the policy.
fn options(policy: &Policy, s: &mut Value) {
    let p = &mut s["properties"];
    p["region"] = nullable(json!({
        "type": "string",
        "enum": ids(policy.regions.keys().map(String::as_str)),
        "description": "The province (GB/T 2260 two-digit code), for regional rules and exceptions.",
    }));
    p["experience_years"] = nullable(json!({
        "type": "object",
        "propertyNames": {"enum": ids(policy.occupations.keys().map(String::as_str))},
        "additionalProperties": {"type": "integer", "minimum": 0, "maximum": 100},
        "description": "Whole years of work (0 to 100) in each occupation, by occupation code.",
    }));
    let mut diplomas = ids(Diploma::ALL.iter().map(|d| d.id()));
    if let Some(d) = diplomas.as_array_mut() {
        d.push(Value::Null);
    }
    p["diplomas"] = nullable(json!({
        "type": "array",
        "items": {"type": ["string", "null"], "enum": diplomas},
        "description": "Diplomas held (a null item is ignored).",
    }));
    s["additionalProperties"] = json!(false);
}

fn problem(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    })
}

/// The answers every operation may give besides its own: too large, too long an address,
/// too many requests, and (for bodies) a wrong content type.
fn common_responses(op: &mut Value, has_body: bool) {
    let r = &mut op["responses"];
    r["413"] = problem("The request body is larger than 16 KiB");
    r["414"] = problem("The address (path and query) is longer than 2,048 bytes");
    r["429"] = json!({
        "description": "Too many requests from this client; wait the seconds Retry-After says",
        "headers": {"Retry-After": {"description": "Seconds to wait", "schema": {"type": "integer", "minimum": 1}}},
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
    });
    if has_body {
        r["415"] = problem("The body is not `application/json`");
    }
}

/// A share code as [`hutong_core::share::ShareCode::parse`] reads it: 24 characters of
/// Crockford's base32 (with `I`, `L`, `O` for `1`, `1`, `0`; never `U`) in either case and
/// width, with hyphens and spaces anywhere.
const SHARE_CODE_PATTERN: &str = "^(?:[-\\u0020\\u3000\\u2010-\\u2015\\uff0d]*[0-9A-TV-Za-tv-z\\uff10-\\uff19\\uff21-\\uff34\\uff36-\\uff3a\\uff41-\\uff54\\uff56-\\uff5a]){24}[-\\u0020\\u3000\\u2010-\\u2015\\uff0d]*$";

/// The document with the policy's values filled in, as JSON.
pub fn document(policy: &Policy) -> Value {
    let mut api = api_router().1;
    api.merge(write_router().1);
    api.merge(log_router().1);
    let mut doc = serde_json::to_value(api).unwrap_or_else(|_| json!({}));
    let schemas = doc["components"]["schemas"].clone();
    let c = &mut doc["components"]["schemas"];

    // The verification query, as one exploded object parameter: its alternatives need it.
    let vq = verify_query_schema(policy, &schemas["VerifyQuery"]);
    c["VerifyQuery"] = vq.clone();
    let verify = &mut doc["paths"]["/api/v1/verify"]["get"];
    verify["parameters"] = json!([{
        "name": "query",
        "in": "query",
        "required": true,
        "style": "form",
        "explode": true,
        "description": "`number` and a second factor: `name`, or `id`, or both; `kind` to pick one kind.",
        "schema": vq,
    }]);

    // The same query as a body: there a null is an absent value too, and no other field is
    // accepted.
    let mut vb = vq.clone();
    vb["properties"]["name"] = json!({"anyOf": [name_schema(), blank()]});
    for f in ["name", "id", "kind"] {
        if let Some(a) = vb["properties"][f]["anyOf"].as_array_mut() {
            a.push(json!({"type": "null"}));
        }
    }
    vb["additionalProperties"] = json!(false);
    vb["description"] = json!(
        "The verification query as a JSON object: `number` and a second factor, `name` or `id` (or both), and optionally `kind`. A null or blank field is an absent one."
    );
    doc["components"]["schemas"]["VerifyBody"] = vb;

    // The log's inclusion query: `seq` or `index` (exactly one), and `tree_size`.
    let inclusion = &mut doc["paths"]["/api/v1/log/inclusion"]["get"];
    let mut props = serde_json::Map::new();
    for p in inclusion["parameters"].as_array().into_iter().flatten() {
        if let Some(name) = p["name"].as_str() {
            // A query string carries text: each value is digits, never null.
            props.insert(
                name.to_string(),
                json!({
                    "type": "string",
                    "pattern": p["schema"]["pattern"],
                    "description": p["description"],
                }),
            );
        }
    }
    inclusion["parameters"] = json!([{
        "name": "query",
        "in": "query",
        "required": true,
        "style": "form",
        "explode": true,
        "description": "`seq` (a journal sequence number) or `index` (a leaf index), not both; `tree_size` optional.",
        "schema": {
            "type": "object",
            "properties": props,
            "oneOf": [{"required": ["seq"]}, {"required": ["index"]}],
        },
    }]);

    // A share code in a path, as people type or scanners read it
    // (`hutong_core::share::ShareCode::parse`).
    for path in ["/api/v1/shares/{code}", "/api/v1/shares/{code}/credentials"] {
        if let Some(params) = doc["paths"][path]["get"]["parameters"].as_array_mut() {
            for p in params {
                p["schema"] = json!({"type": "string", "pattern": SHARE_CODE_PATTERN});
            }
        }
    }

    // The feed's and the regulators' figures' department and province are the policy's (a
    // blank one is an absent one).
    for path in ["/api/v1/feed", "/api/v1/oversight"] {
        let Some(params) = doc["paths"][path]["get"]["parameters"].as_array_mut() else {
            continue;
        };
        for p in params {
            let values = match p["name"].as_str() {
                Some("department") => ids(policy.departments.keys().map(String::as_str)),
                Some("region") => ids(policy.regions.keys().map(String::as_str)),
                _ => continue,
            };
            let mut values = values;
            if let Some(v) = values.as_array_mut() {
                v.push(json!(""));
            }
            p["schema"] = json!({"type": "string", "enum": values});
        }
    }

    // The one-stop query: the GET form is deprecated.
    let holders = &mut doc["paths"]["/api/v1/holders/certificates"];
    holders["get"]["deprecated"] = json!(true);
    if let Some(params) = holders["get"]["parameters"].as_array_mut() {
        for p in params {
            p["required"] = json!(true);
            p["schema"] = if p["name"] == "id" {
                id_schema()
            } else {
                name_schema()
            };
        }
    }
    let c = &mut doc["components"]["schemas"];
    c["HolderBody"]["properties"]["id"] = id_schema();
    c["HolderBody"]["properties"]["name"] = name_schema();
    c["HolderBody"]["additionalProperties"] = json!(false);
    // Share codes: the holder's ID number and name as everywhere; a purpose of the four; days
    // 1 to 366; a certificate by number and kind together, or neither.
    for body in ["ShareBody", "ShareListBody", "ShareRevokeBody"] {
        c[body]["properties"]["id_number"] = id_schema();
        c[body]["properties"]["name"] = name_schema();
        c[body]["additionalProperties"] = json!(false);
    }
    let mut purposes: Vec<Value> = hutong_core::share::SharePurpose::ALL
        .iter()
        .map(|p| json!(p.as_str()))
        .collect();
    purposes.push(Value::Null);
    c["ShareBody"]["properties"]["purpose"] = json!({
        "enum": purposes,
        "description": "What the holder shares for, shown to whoever opens the code; `other` when absent or null.",
    });
    c["ShareBody"]["properties"]["days"] = json!({
        "type": ["integer", "null"], "minimum": 1, "maximum": hutong_core::share::MAX_DAYS,
        "description": "How many days the code works; 30 when absent or null.",
    });
    c["ShareBody"]["properties"]["number"] = json!({"type": ["string", "null"], "description": "With `kind`: the one certificate to share."});
    c["ShareBody"]["properties"]["kind"] = json!({"type": ["string", "null"], "description": "With `number`: the one certificate to share."});
    // Both or neither (a null is an absent value).
    c["ShareBody"]["anyOf"] = json!([
        {"properties": {"number": {"type": "null"}, "kind": {"type": "null"}}},
        {"required": ["number", "kind"], "properties": {"number": {"type": "string"}, "kind": {"type": "string"}}},
    ]);
    c["ShareRevokeBody"]["properties"]["id"] = json!({
        "type": "string", "pattern": "^shr_[0-9a-f]{16}$",
        "description": "The share code's id, as the holder's list gives it.",
    });
    c["CredentialBody"]["properties"]["id_number"] = id_schema();
    c["CredentialBody"]["properties"]["name"] = name_schema();
    c["CredentialBody"]["additionalProperties"] = json!(false);

    // The recognition bodies.
    c["HoldingInput"] = holding_schema(policy, &schemas["HoldingInput"]);
    for name in ["AdviceRequest", "HolderAdviceRequest", "CheckRequest"] {
        let mut s = schemas[name].clone();
        options(policy, &mut s);
        if name != "AdviceRequest" {
            s["properties"]["id"] = id_schema();
            s["properties"]["name"] = name_schema();
        }
        if name == "CheckRequest" {
            s["properties"]["target"] = json!({
                "type": "string",
                "enum": ids(policy.kinds.keys().map(String::as_str)),
                "description": "The certificate kind applied for.",
            });
        }
        c[name] = s;
    }
    let levels = ids(Level::ALL.iter().map(|l| l.id()));
    for name in ["DeemedLevelAnswer", "NextLevelAnswer"] {
        c[name]["properties"]["level"]["enum"] = levels.clone();
    }

    // The write bodies refuse unknown fields, and name their closed sets.
    let c = &mut doc["components"]["schemas"];
    for name in [
        "IssueBody",
        "ChangeBody",
        "HistoryBody",
        "TokenBody",
        "RevokeBody",
        "PolicyBody",
        "IssuerChangeBody",
    ] {
        c[name]["additionalProperties"] = json!(false);
    }
    c["ChangeBody"]["properties"]["change"]["enum"] =
        ids(hutong_core::rights::CertificateChange::ALL
            .iter()
            .map(|c| c.id()));
    c["ChangeBody"]["properties"]["reason"] = nullable(json!({
        "type": "string",
        "enum": ids(hutong_core::RevocationReason::ALL.iter().map(|r| r.id())),
        "description": "For `revoke`: the status reason (IDENTIFIERS.md).",
    }));
    // A token's actor, tagged by `kind`, as `hutong_core::rights::Actor` reads it.
    let region = nullable(json!({
        "type": "string",
        "description": "A GB/T 2260 province code; none for a national actor.",
    }));
    let department = |d: &str| {
        json!({"type": "object", "additionalProperties": false, "required": ["kind", "department"],
            "properties": {"kind": {"type": "string", "enum": [d]}, "department": {"type": "string"}, "region": region}})
    };
    c["TokenBody"]["properties"]["actor"] = json!({
        "description": c["TokenBody"]["properties"]["actor"]["description"],
        "oneOf": [
            department("regulator"),
            department("authority"),
            {"type": "object", "additionalProperties": false, "required": ["kind", "issuer"],
             "properties": {"kind": {"type": "string", "enum": ["institution"]}, "issuer": {"type": "string"}}},
        ],
    });
    c["RevokeBody"]["properties"]["id"]["pattern"] = json!("^[\\s]*tok_[0-9a-f]{16}[\\s]*$");
    c["PolicyBody"]["properties"]["files"]["propertyNames"] =
        json!({"pattern": "^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,58}\\.toml$"});

    if let Some(paths) = doc["paths"].as_object_mut() {
        for item in paths.values_mut() {
            if let Some(ops) = item.as_object_mut() {
                for op in ops.values_mut() {
                    let has_body = op.get("requestBody").is_some();
                    common_responses(op, has_body);
                }
            }
        }
    }
    doc
}

/// The document for `policy`, as JSON text, made once per policy.
pub fn document_json(policy: &Policy) -> Arc<str> {
    static DOC: RwLock<Option<(String, Arc<str>)>> = RwLock::new(None);
    if let Ok(g) = DOC.read()
        && let Some((digest, text)) = g.as_ref()
        && *digest == policy.digest
    {
        return text.clone();
    }
    let text: Arc<str> = serde_json::to_string_pretty(&document(policy))
        .unwrap_or_else(|e| format!("{{\"error\":\"{e}\"}}"))
        .into();
    if let Ok(mut g) = DOC.write() {
        *g = Some((policy.digest.clone(), text.clone()));
    }
    text
}

/// `GET /api/openapi.json`
pub async fn serve(State(state): State<AppState>) -> Response {
    let mut resp = document_json(&state.policy()).to_string().into_response();
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}
