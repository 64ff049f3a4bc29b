//! The domain of hutong: identifiers, certificates, lifecycle rules and the policy model.
//!
//! This crate is pure: it does no I/O beyond parsing the policy text it is handed, and knows
//! nothing of HTTP or SQL. Everything that is a rule of the world (which kinds exist, how long
//! they last, what the standards require) comes from the policy files, loaded by [`policy`].

pub mod certificate;
pub mod date;
pub mod elicence;
pub mod exam;
pub mod export;
pub mod holder;
pub mod idcard;
pub mod ids;
pub mod issuer;
pub mod journal;
pub mod json;
pub mod keys;
pub mod lifecycle;
pub mod number;
pub mod oversight;
pub mod policy;
pub mod recognition;
pub mod record;
pub mod rights;
pub mod rows;
pub mod share;
pub mod token;
pub mod verify;

pub use certificate::{AdminState, Certificate, RevocationReason};
pub use date::{Day, Period};
pub use elicence::{ELicenceId, LicenceTypeCode, UnifiedCreditCode};
pub use holder::{HolderKey, HolderSecret, mask_name};
pub use idcard::{IdCardError, ResidentId};
pub use ids::{Exemption, ExemptionSet, Level, Status};
pub use issuer::{
    Grant, IssueRefusal, Issuer, IssuerChange, IssuerRefusal, IssuerRole, IssuerStatus, ScopeEntry,
    Suspension,
};
pub use lifecycle::{Lifecycle, StatusReport};
pub use policy::Policy;
pub use recognition::{Advice, AdviceInput, Holding, InputErrors, advise, advise_at};
