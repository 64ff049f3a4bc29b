//! Request handlers, one module per resource. Handlers translate between HTTP and the core and
//! store; they hold no business rules.

pub mod api;
pub mod health;
pub mod home;
pub mod lookup;
pub mod pages;
pub mod recognition;
