//! Row types shared by both backends, their conversion into `lti-core`
//! records, and the value rules applied before anything reaches SQL.
//!
//! The column types line up across dialects (INTEGER/BIGINT as `i64`,
//! INTEGER 0/1 / BOOLEAN as `bool`, TEXT as `String`), so one
//! `#[derive(FromRow)]` struct decodes rows of either backend. The SQL that
//! produces them lives in the backend modules.

use lti_core::{
    ConsumerId, ConsumerRecord, ContextData, ContextKey, ContextRecord, LaunchRecord, Permissions,
    ResourceData, ResourceId, ResourceRecord, SealedSecret, SiloId, SiloRecord, StoreError,
    StoreResult, StoredAppKey, StoredParams, UserData, UserKey, UserRecord, VisitBundle, VisitId,
    VisitRecord,
};

/// Longest User-Agent kept with a visit, in bytes (spec QL-16: the header
/// is traffic data; Pyslet's column held 256 characters).
pub const MAX_USER_AGENT_LEN: usize = 256;

/// How many times an insert retries after its random resource id collided
/// with an existing one (a 2⁻⁶³-per-row event; more than one retry means
/// something else is wrong).
pub(crate) const RESOURCE_ID_ATTEMPTS: usize = 4;

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct SiloRow {
    pub(crate) id: i64,
    pub(crate) slug: String,
}

impl From<SiloRow> for SiloRecord {
    fn from(row: SiloRow) -> Self {
        Self {
            id: SiloId(row.id),
            slug: row.slug,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ConsumerRow {
    pub(crate) id: i64,
    pub(crate) silo_id: i64,
    pub(crate) handle: String,
    pub(crate) key: String,
    pub(crate) secret: String,
    pub(crate) enabled: bool,
    pub(crate) created: i64,
}

impl From<ConsumerRow> for ConsumerRecord {
    fn from(row: ConsumerRow) -> Self {
        Self {
            id: ConsumerId(row.id),
            silo: SiloId(row.silo_id),
            handle: row.handle,
            key: row.key,
            secret: SealedSecret::from_cipher_text(row.secret),
            enabled: row.enabled,
            created: row.created,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ContextRow {
    pub(crate) id: i64,
    pub(crate) consumer_id: i64,
    pub(crate) context_id: String,
    pub(crate) title: Option<String>,
    pub(crate) label: Option<String>,
    pub(crate) types: Option<String>,
}

impl From<ContextRow> for ContextRecord {
    fn from(row: ContextRow) -> Self {
        Self {
            key: ContextKey(row.id),
            consumer: ConsumerId(row.consumer_id),
            context_id: row.context_id,
            title: row.title,
            label: row.label,
            types: row.types,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct ResourceRow {
    pub(crate) id: i64,
    pub(crate) consumer_id: i64,
    pub(crate) context_key: Option<i64>,
    pub(crate) link_id: String,
    pub(crate) title: Option<String>,
    pub(crate) description: Option<String>,
}

impl TryFrom<ResourceRow> for ResourceRecord {
    type Error = StoreError;

    fn try_from(row: ResourceRow) -> StoreResult<Self> {
        Ok(Self {
            id: resource_id_from_db(row.id)?,
            consumer: ConsumerId(row.consumer_id),
            context: row.context_key.map(ContextKey),
            link_id: row.link_id,
            title: row.title,
            description: row.description,
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct UserRow {
    pub(crate) id: i64,
    pub(crate) consumer_id: i64,
    pub(crate) user_id: String,
    pub(crate) given_name: Option<String>,
    pub(crate) family_name: Option<String>,
    pub(crate) full_name: Option<String>,
    pub(crate) email: Option<String>,
}

impl From<UserRow> for UserRecord {
    fn from(row: UserRow) -> Self {
        Self {
            key: UserKey(row.id),
            consumer: ConsumerId(row.consumer_id),
            user_id: row.user_id,
            given_name: row.given_name,
            family_name: row.family_name,
            full_name: row.full_name,
            email: row.email,
        }
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct VisitRow {
    pub(crate) id: i64,
    pub(crate) resource_id: i64,
    pub(crate) user_key: Option<i64>,
    pub(crate) session: Option<String>,
    pub(crate) permissions: i64,
    pub(crate) launched: i64,
    pub(crate) user_agent: Option<String>,
    pub(crate) parameters: String,
}

impl TryFrom<VisitRow> for VisitRecord {
    type Error = StoreError;

    fn try_from(row: VisitRow) -> StoreResult<Self> {
        Ok(Self {
            id: VisitId(row.id),
            resource: resource_id_from_db(row.resource_id)?,
            user: row.user_key.map(UserKey),
            session: row.session,
            permissions: permissions_from_db(row.permissions),
            launched: row.launched,
            user_agent: row.user_agent,
            parameters: StoredParams::from_json(row.parameters),
        })
    }
}

/// A visit row joined with its resource, consumer, and (left-joined)
/// context and user, columns prefixed `v_`, `r_`, `c_`, `x_` and `u_`.
#[derive(Debug, sqlx::FromRow)]
pub(crate) struct BundleRow {
    pub(crate) v_id: i64,
    pub(crate) v_user_key: Option<i64>,
    pub(crate) v_session: Option<String>,
    pub(crate) v_permissions: i64,
    pub(crate) v_launched: i64,
    pub(crate) v_user_agent: Option<String>,
    pub(crate) v_parameters: String,
    pub(crate) r_id: i64,
    pub(crate) r_consumer_id: i64,
    pub(crate) r_context_key: Option<i64>,
    pub(crate) r_link_id: String,
    pub(crate) r_title: Option<String>,
    pub(crate) r_description: Option<String>,
    pub(crate) c_id: i64,
    pub(crate) c_silo_id: i64,
    pub(crate) c_handle: String,
    pub(crate) c_key: String,
    pub(crate) c_secret: String,
    pub(crate) c_enabled: bool,
    pub(crate) c_created: i64,
    pub(crate) x_id: Option<i64>,
    pub(crate) x_context_id: Option<String>,
    pub(crate) x_title: Option<String>,
    pub(crate) x_label: Option<String>,
    pub(crate) x_types: Option<String>,
    pub(crate) u_id: Option<i64>,
    pub(crate) u_user_id: Option<String>,
    pub(crate) u_given_name: Option<String>,
    pub(crate) u_family_name: Option<String>,
    pub(crate) u_full_name: Option<String>,
    pub(crate) u_email: Option<String>,
}

impl TryFrom<BundleRow> for VisitBundle {
    type Error = StoreError;

    fn try_from(row: BundleRow) -> StoreResult<Self> {
        let resource_id = resource_id_from_db(row.r_id)?;
        let consumer = ConsumerId(row.c_id);
        let context = match (row.x_id, row.x_context_id) {
            (Some(id), Some(context_id)) => Some(ContextRecord {
                key: ContextKey(id),
                consumer,
                context_id,
                title: row.x_title,
                label: row.x_label,
                types: row.x_types,
            }),
            _ => None,
        };
        let user = match (row.u_id, row.u_user_id) {
            (Some(id), Some(user_id)) => Some(UserRecord {
                key: UserKey(id),
                consumer,
                user_id,
                given_name: row.u_given_name,
                family_name: row.u_family_name,
                full_name: row.u_full_name,
                email: row.u_email,
            }),
            _ => None,
        };
        Ok(Self {
            visit: VisitRecord {
                id: VisitId(row.v_id),
                resource: resource_id,
                user: row.v_user_key.map(UserKey),
                session: row.v_session,
                permissions: permissions_from_db(row.v_permissions),
                launched: row.v_launched,
                user_agent: row.v_user_agent,
                parameters: StoredParams::from_json(row.v_parameters),
            },
            resource: ResourceRecord {
                id: resource_id,
                consumer: ConsumerId(row.r_consumer_id),
                context: row.r_context_key.map(ContextKey),
                link_id: row.r_link_id,
                title: row.r_title,
                description: row.r_description,
            },
            context,
            user,
            consumer: ConsumerRecord {
                id: consumer,
                silo: SiloId(row.c_silo_id),
                handle: row.c_handle,
                key: row.c_key,
                secret: SealedSecret::from_cipher_text(row.c_secret),
                enabled: row.c_enabled,
                created: row.c_created,
            },
        })
    }
}

#[derive(Debug, sqlx::FromRow)]
pub(crate) struct AppKeyRow {
    pub(crate) keynum: i64,
    pub(crate) wrapped: String,
    pub(crate) switch_over: i64,
}

impl TryFrom<AppKeyRow> for StoredAppKey {
    type Error = StoreError;

    fn try_from(row: AppKeyRow) -> StoreResult<Self> {
        Ok(Self {
            keynum: u32::try_from(row.keynum).map_err(|_| {
                StoreError::Backend(format!("stored key number {} is out of range", row.keynum))
            })?,
            wrapped: row.wrapped,
            switch_over: row.switch_over,
        })
    }
}

/// A resource id as stored.
pub(crate) fn resource_id_to_db(id: ResourceId) -> i64 {
    id.get()
}

/// A stored resource id; negative values cannot occur (CHECK constraint).
pub(crate) fn resource_id_from_db(value: i64) -> StoreResult<ResourceId> {
    ResourceId::new(value)
        .ok_or_else(|| StoreError::Backend(format!("stored resource id {value} is negative")))
}

/// A new random resource id (spec §7.2: random non-negative 63-bit).
pub(crate) fn random_resource_id() -> StoreResult<i64> {
    ResourceId::random()
        .map(resource_id_to_db)
        .map_err(|err| StoreError::Backend(err.to_string()))
}

/// Permission bits as stored.
pub(crate) fn permissions_to_db(permissions: Permissions) -> i64 {
    i64::from(permissions.bits())
}

/// Stored permission bits; unknown bits are dropped.
pub(crate) fn permissions_from_db(value: i64) -> Permissions {
    Permissions::from_bits_truncate(u32::try_from(value & i64::from(u32::MAX)).unwrap_or(0))
}

/// `Some` only for a non-empty value: launches send blank fields, and the
/// store keeps absent values as NULL, never '' (spec QL-8).
pub(crate) fn non_empty(value: Option<&String>) -> Option<&str> {
    value.map(String::as_str).filter(|value| !value.is_empty())
}

/// Fails with [`StoreError::Invalid`] when a required value is empty.
pub(crate) fn require(value: &str, what: &str) -> StoreResult<()> {
    if value.is_empty() {
        Err(StoreError::Invalid(format!("{what} must not be empty")))
    } else {
        Ok(())
    }
}

/// The User-Agent to keep: at most [`MAX_USER_AGENT_LEN`] bytes, cut on a
/// character boundary; empty becomes NULL.
pub(crate) fn truncate_user_agent(user_agent: Option<&str>) -> Option<String> {
    let user_agent = user_agent.filter(|ua| !ua.is_empty())?;
    let mut end = user_agent.len().min(MAX_USER_AGENT_LEN);
    while !user_agent.is_char_boundary(end) {
        end -= 1;
    }
    Some(user_agent[..end].to_owned())
}

/// Launch parameters as the JSON text stored with a visit
/// ([`StoredParams`]' format, decoded only when asked for): an array of
/// `[name, value]` pairs, in order, duplicates kept.
pub(crate) fn parameters_to_json(parameters: &[(String, String)]) -> StoreResult<String> {
    serde_json::to_string(parameters)
        .map_err(|err| StoreError::Invalid(format!("launch parameters: {err}")))
}

/// Checks a context before it is written: `context_id` is required.
pub(crate) fn validate_context(data: &ContextData) -> StoreResult<()> {
    require(&data.context_id, "context_id")
}

/// Checks a resource link before it is written: `resource_link_id` is
/// required (spec §5.4 L-3).
pub(crate) fn validate_resource(data: &ResourceData) -> StoreResult<()> {
    require(&data.link_id, "resource_link_id")
}

/// Checks a user before it is written: `user_id` is required.
pub(crate) fn validate_user(data: &UserData) -> StoreResult<()> {
    require(&data.user_id, "user_id")
}

/// Checks a whole launch before its transaction starts, so an invalid
/// launch writes nothing.
pub(crate) fn validate_launch(launch: &LaunchRecord) -> StoreResult<()> {
    require(&launch.session, "session id")?;
    validate_resource(&launch.resource)?;
    if let Some(context) = &launch.context {
        validate_context(context)?;
    }
    if let Some(user) = &launch.user {
        validate_user(user)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_agent_is_cut_on_a_char_boundary() {
        assert_eq!(truncate_user_agent(None), None);
        assert_eq!(truncate_user_agent(Some("")), None);
        assert_eq!(
            truncate_user_agent(Some("Mozilla")).as_deref(),
            Some("Mozilla")
        );
        let exact = "a".repeat(MAX_USER_AGENT_LEN);
        assert_eq!(truncate_user_agent(Some(&exact)), Some(exact.clone()));
        // 255 ASCII bytes then a 3-byte character straddling the limit.
        let straddling = format!("{}€tail", "a".repeat(MAX_USER_AGENT_LEN - 1));
        let cut = truncate_user_agent(Some(&straddling)).unwrap_or_default();
        assert_eq!(cut, "a".repeat(MAX_USER_AGENT_LEN - 1));
        let wide = "€".repeat(200);
        let cut = truncate_user_agent(Some(&wide)).unwrap_or_default();
        assert!(cut.len() <= MAX_USER_AGENT_LEN);
        assert_eq!(cut.chars().count(), MAX_USER_AGENT_LEN / 3);
    }

    #[test]
    fn parameters_round_trip_in_order_with_duplicates() {
        let parameters = vec![
            ("roles".to_owned(), "Instructor".to_owned()),
            (
                "custom_x".to_owned(),
                "a \"quoted\" ünïcode value".to_owned(),
            ),
            ("roles".to_owned(), "Learner".to_owned()),
        ];
        let json = parameters_to_json(&parameters).unwrap_or_default();
        assert_eq!(StoredParams::from_json(json).pairs(), parameters);
    }

    #[test]
    fn empty_is_absent() {
        let empty = String::new();
        let value = "x".to_owned();
        assert_eq!(non_empty(None), None);
        assert_eq!(non_empty(Some(&empty)), None);
        assert_eq!(non_empty(Some(&value)), Some("x"));
        assert!(require("", "resource_link_id").is_err());
        assert!(require("x", "resource_link_id").is_ok());
    }
}
