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
    /// The certificate number, as printed or typed (full-width forms, either case, spaces), or
    /// the certificate's national e-licence identifier (`1.2.156.3005.2.…`).
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
    /// Reads a query string (`number=…&name=…`) as `Query<VerifyParams>` reads it, without
    /// going through serde: verification's first step, on every request. Unknown parameters
    /// are ignored; one given twice is refused, naming it. So is a field given as a list or an
    /// object (`id[]=…`, `id[a]=…`, as clients encode them): ignoring it would answer as if
    /// the field were absent, and an `id` meant as the second factor would go unchecked.
    pub fn from_query(query: Option<&str>) -> Result<VerifyParams, ApiError> {
        const FIELDS: [&str; 4] = ["number", "name", "id", "kind"];
        let mut p = VerifyParams::default();
        for (k, v) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
            let slot = match &*k {
                "number" => &mut p.number,
                "name" => &mut p.name,
                "id" => &mut p.id,
                "kind" => &mut p.kind,
                other => {
                    if let Some(field) = FIELDS
                        .iter()
                        .find(|f| other.strip_prefix(**f).is_some_and(|r| r.starts_with('[')))
                    {
                        return Err(ApiError::bad_request(format!(
                            "{field}: one value is expected, not a list or an object"
                        )));
                    }
                    continue;
                }
            };
            if slot.is_some() {
                return Err(ApiError::bad_request(format!(
                    "Failed to deserialize query string: duplicate field `{k}`"
                )));
            }
            *slot = Some(v.into_owned());
        }
        Ok(p)
    }

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

pub(crate) async fn verified(
    state: &AppState,
    policy: &Policy,
    cert: hutong_core::Certificate,
    today: Day,
) -> Result<Verified, ApiError> {
    let issuer = state.issuer(&cert.issuer).await?;
    let verification = verify(policy, &cert, issuer.as_deref(), today);
    let e_licence_id = e_licence_id(state, policy, &cert, issuer.as_deref()).await?;
    Ok(Verified {
        data_as_of: state.data_as_of(&cert.issuer),
        cert,
        issuer,
        verification,
        e_licence_id,
    })
}

/// A verification by national e-licence identifier (电子证照标识) in place of the number: the
/// identifier is checked (each part and its ISO 7064 MOD 37,36 check character; a malformed
/// one is a 400 that says what is wrong), then the certificate it names is found by its
/// serial, the registry id, and must be the one whose identifier it is. `Ok(false)` when it
/// names no certificate of this registry (the caller answers "not found", as for an unknown
/// number). Otherwise `params` then holds the certificate's own number and kind, and the
/// second factor is checked as for any number.
pub async fn resolve_e_licence(
    state: &AppState,
    policy: &Policy,
    params: &mut VerifyParams,
) -> Result<bool, ApiError> {
    // Read as typed, like a number: full-width dots and digits, spaces, lower case.
    let Some(text) = params
        .number
        .as_deref()
        .map(hutong_core::number::normalize)
        .filter(|n| n.starts_with(hutong_core::elicence::ROOT))
    else {
        return Ok(true);
    };
    let id = hutong_core::elicence::ELicenceId::parse(&text).map_err(|e| {
        ApiError::bad_request(format!("number: a national e-licence identifier, but {e}"))
    })?;
    let Some(cert) = (match id.serial().parse::<i64>() {
        Ok(serial) => state.store.certificate_by_id(serial).await?,
        Err(_) => None,
    }) else {
        return Ok(false);
    };
    let issuer = state.issuer(&cert.issuer).await?;
    let own = e_licence_id(state, policy, &cert, issuer.as_deref()).await?;
    if own.as_deref() != Some(id.to_string().as_str()) {
        return Ok(false);
    }
    if params
        .kind
        .as_deref()
        .is_some_and(|k| k.trim() != cert.kind)
    {
        return Ok(false);
    }
    params.number = Some(cert.number);
    params.kind = Some(cert.kind);
    Ok(true)
}

/// A certificate's e-licence identifier, as its credential carries it. Its serial is the
/// registry id, read only for the kinds and issuers that have an identifier at all, so that
/// other lookups cost no extra query.
pub(crate) async fn e_licence_id(
    state: &AppState,
    policy: &Policy,
    cert: &hutong_core::Certificate,
    issuer: Option<&hutong_core::Issuer>,
) -> Result<Option<String>, ApiError> {
    let type_code = policy
        .kind(&cert.kind)
        .and_then(|k| k.licence_type_code.as_ref());
    let credit_code = issuer.and_then(|i| i.credit_code.as_ref());
    if type_code.is_none() || credit_code.is_none() {
        return Ok(None);
    }
    let Some((id, _)) = state
        .store
        .certificate_with_id(&cert.number, &cert.kind)
        .await?
    else {
        return Ok(None);
    };
    Ok(hutong_core::elicence::for_certificate(
        type_code,
        credit_code,
        id,
        hutong_core::elicence::FIRST_ISSUE,
    )
    .map(|e| e.to_string()))
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

#[cfg(test)]
mod tests {
    use super::*;
    use axum::extract::Query;
    use axum::http::Uri;
    use proptest::prelude::*;

    fn fields(p: &VerifyParams) -> [Option<String>; 4] {
        [
            p.number.clone(),
            p.name.clone(),
            p.id.clone(),
            p.kind.clone(),
        ]
    }

    /// What axum's `Query<VerifyParams>` makes of a query: `Some` fields, or `None` when it
    /// refuses the query.
    fn by_axum(q: &str) -> Option<[Option<String>; 4]> {
        let uri: Uri = format!("/api/v1/verify?{q}").parse().ok()?;
        Query::<VerifyParams>::try_from_uri(&uri)
            .ok()
            .map(|Query(p)| fields(&p))
    }

    #[test]
    fn reads_queries_as_axum_query_does() {
        for q in [
            "number=%E5%B7%9DA992025000001&name=%E7%86%8A%E7%90%B3",
            "number=T110101199001011234&id=110101199001011234&kind=mem.electrical.low-voltage",
            "name=a+b&number=",
            "other=1&number=x",
            "number=%ZZ&name=%",
            "&&=&number",
        ] {
            let ours = VerifyParams::from_query(Some(q)).ok().map(|p| fields(&p));
            assert_eq!(ours, by_axum(q), "{q}");
        }
        let twice = VerifyParams::from_query(Some("number=1&number=2")).unwrap_err();
        assert_eq!(twice.status, axum::http::StatusCode::BAD_REQUEST);
        assert!(twice.detail.contains("`number`"), "{}", twice.detail);
        assert!(by_axum("number=1&number=2").is_none());
    }

    /// A field encoded as a list or an object is refused, naming the field, rather than
    /// ignored (an `id` meant as the second factor would otherwise go unchecked).
    #[test]
    fn fields_given_as_lists_or_objects_are_refused() {
        for (q, field) in [
            ("number=S1&name=a&id[]=1", "id"),
            ("number=S1&name=a&id%5Bx%5D%5B0%5D=1", "id"),
            ("number=S1&id=1&name[]=a", "name"),
            ("number[0]=S1&name=a", "number"),
            ("number=S1&name=a&kind[]=mem.x", "kind"),
        ] {
            let e = VerifyParams::from_query(Some(q)).unwrap_err();
            assert_eq!(e.status, axum::http::StatusCode::BAD_REQUEST, "{q}");
            assert!(
                e.detail.starts_with(&format!("{field}: ")),
                "{q}: {}",
                e.detail
            );
        }
        // Other names that merely start alike are unknown parameters, ignored.
        assert!(VerifyParams::from_query(Some("number=S1&identity[]=1&ids=2")).is_ok());
    }

    proptest! {
        #[test]
        fn reads_any_query_as_axum_query_does(
            q in "((number|name|id|kind|x)(=([a-zA-Z0-9+ ]|%[0-9A-Fa-f]{2}|%E7%86|%){0,6})?&?){0,5}"
        ) {
            let q = q.replace(' ', "%20");
            let ours = VerifyParams::from_query(Some(&q)).ok().map(|p| fields(&p));
            prop_assert_eq!(ours, by_axum(&q));
        }
    }
}
