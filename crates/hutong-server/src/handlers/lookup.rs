//! The two public lookups, shared by the JSON API and the pages: find the certificates a query
//! opens and verify each with the core. No rule is decided here.

use hutong_core::Policy;
use hutong_core::date::Day;
use hutong_core::verify::{
    HolderQuery, VerifyQuery, describe_errors, second_factor_matches, verify,
};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::error::ApiError;
use crate::state::AppState;
use crate::views::Verified;

/// Parameters of `GET /api/v1/verify` and of the result page.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VerifyParams {
    /// The certificate number, as printed (letters in any case, spaces around ignored).
    pub number: Option<String>,
    /// The holder's name: the second factor. Required unless `id` is given.
    pub name: Option<String>,
    /// The holder's resident ID number, instead of or besides the name. Never echoed.
    pub id: Option<String>,
    /// A certificate kind id (`mem.electrical.low-voltage`), to verify one certificate when
    /// several kinds share the number.
    pub kind: Option<String>,
}

/// Parameters of `GET /api/v1/holders/certificates` and of the one-stop query form.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HolderParams {
    /// The holder's resident ID number (18 characters). Required; never echoed.
    pub id: Option<String>,
    /// The holder's name. Required.
    pub name: Option<String>,
}

/// The body of `POST /api/v1/verify`: the verification query, kept out of the address (an ID
/// number as the second factor, or a number that embeds one). A null or blank field is an
/// absent one.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VerifyBody {
    /// The certificate number, as printed.
    #[schema(required = true)]
    pub number: Option<String>,
    /// The holder's name: the second factor, unless `id` is given.
    pub name: Option<String>,
    /// The holder's resident ID number, instead of or besides the name. Never echoed.
    pub id: Option<String>,
    /// A certificate kind id, to verify one certificate when several kinds share the number.
    pub kind: Option<String>,
}

impl From<VerifyBody> for VerifyParams {
    fn from(b: VerifyBody) -> VerifyParams {
        VerifyParams {
            number: b.number,
            name: b.name,
            id: b.id,
            kind: b.kind,
        }
    }
}

/// The body of `POST /api/v1/holders/certificates`: the one-stop query, kept out of the
/// address.
#[derive(Debug, Default, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HolderBody {
    /// The holder's resident ID number (18 characters, GB 11643). Never echoed.
    #[schema(required = true)]
    pub id: Option<String>,
    /// The holder's name.
    #[schema(required = true)]
    pub name: Option<String>,
}

impl HolderBody {
    pub fn check(&self) -> Result<HolderQuery, ApiError> {
        HolderQuery::parse(self.id.as_deref(), self.name.as_deref())
            .map_err(|e| ApiError::bad_request(describe_errors(&e)))
    }
}

impl VerifyParams {
    pub fn check(&self, policy: &Policy) -> Result<VerifyQuery, ApiError> {
        VerifyQuery::parse(
            policy,
            self.number.as_deref(),
            self.name.as_deref(),
            self.id.as_deref(),
            self.kind.as_deref(),
        )
        .map_err(|e| ApiError::bad_request(describe_errors(&e)))
    }
}

impl HolderParams {
    pub fn check(&self) -> Result<HolderQuery, ApiError> {
        HolderQuery::parse(self.id.as_deref(), self.name.as_deref())
            .map_err(|e| ApiError::bad_request(describe_errors(&e)))
    }
}

async fn verified(
    state: &AppState,
    policy: &Policy,
    cert: hutong_core::Certificate,
    today: Day,
) -> Result<Verified, ApiError> {
    let issuer = state.issuer(&cert.issuer).await?;
    let verification = verify(policy, &cert, issuer.as_deref(), today);
    Ok(Verified {
        cert,
        issuer,
        verification,
    })
}

/// The certificates with the query's number (and kind) that its second factor opens.
pub async fn find_by_number(
    state: &AppState,
    policy: &Policy,
    q: &VerifyQuery,
    today: Day,
) -> Result<Vec<Verified>, ApiError> {
    let key = q.holder.as_ref().map(|id| state.secret.key_for(id));
    let certs = state.store.certificates_by_number(&q.number).await?;
    let mut out = Vec::with_capacity(certs.len().min(4));
    for c in certs {
        if q.kind.as_deref().is_some_and(|k| k != c.kind) {
            continue;
        }
        if !second_factor_matches(&c, q.name.as_deref(), key.as_ref()) {
            continue;
        }
        out.push(verified(state, policy, c, today).await?);
    }
    Ok(out)
}

/// Every certificate of the holder whose registered name matches the one given.
pub async fn find_by_holder(
    state: &AppState,
    policy: &Policy,
    q: &HolderQuery,
    today: Day,
) -> Result<Vec<Verified>, ApiError> {
    let key = state.secret.key_for(&q.holder);
    let certs = state.store.certificates_by_holder(&key).await?;
    let mut out = Vec::with_capacity(certs.len());
    for c in certs {
        if second_factor_matches(&c, Some(&q.name), Some(&key)) {
            out.push(verified(state, policy, c, today).await?);
        }
    }
    Ok(out)
}
