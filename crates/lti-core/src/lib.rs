//! The LTI 1.x vocabulary and rules shared by every axum-lti crate.
//!
//! `lti-core` knows nothing of HTTP servers or databases. It holds the
//! launch parameters and their checks, roles and permissions, clocks and
//! identifiers, the application cipher that protects secrets at rest, and
//! the [`Store`] trait that the storage backends implement.

mod cipher;
mod clock;
mod ids;
mod launch;
mod owners;
mod permissions;
mod roles;
mod store;

pub use cipher::*;
pub use clock::*;
pub use ids::*;
pub use launch::*;
pub use owners::*;
pub use permissions::*;
pub use roles::*;
pub use store::*;
