//! Rows read through direct connections, decoded by column position into
//! the row types shared with sqlx ([`crate::rows`]). Each function matches
//! the column list of the statements that use it.

use rusqlite::{Result, Row};

use crate::rows::{BundleRow, ConsumerRow, ContextRow, ResourceRow, UserRow, VisitRow};

/// `id, silo_id, handle, key, secret, enabled, created`
pub(super) fn consumer(row: &Row<'_>) -> Result<ConsumerRow> {
    Ok(ConsumerRow {
        id: row.get(0)?,
        silo_id: row.get(1)?,
        handle: row.get(2)?,
        key: row.get(3)?,
        secret: row.get(4)?,
        enabled: row.get(5)?,
        created: row.get(6)?,
    })
}

/// `id, consumer_id, context_id, title, label, types`
pub(super) fn context(row: &Row<'_>) -> Result<ContextRow> {
    Ok(ContextRow {
        id: row.get(0)?,
        consumer_id: row.get(1)?,
        context_id: row.get(2)?,
        title: row.get(3)?,
        label: row.get(4)?,
        types: row.get(5)?,
    })
}

/// `id, consumer_id, context_key, link_id, title, description`
pub(super) fn resource(row: &Row<'_>) -> Result<ResourceRow> {
    Ok(ResourceRow {
        id: row.get(0)?,
        consumer_id: row.get(1)?,
        context_key: row.get(2)?,
        link_id: row.get(3)?,
        title: row.get(4)?,
        description: row.get(5)?,
    })
}

/// `id, consumer_id, user_id, given_name, family_name, full_name, email`
pub(super) fn user(row: &Row<'_>) -> Result<UserRow> {
    Ok(UserRow {
        id: row.get(0)?,
        consumer_id: row.get(1)?,
        user_id: row.get(2)?,
        given_name: row.get(3)?,
        family_name: row.get(4)?,
        full_name: row.get(5)?,
        email: row.get(6)?,
    })
}

/// `id, resource_id, user_key, session, permissions, launched, user_agent,
/// parameters`
pub(super) fn visit(row: &Row<'_>) -> Result<VisitRow> {
    Ok(VisitRow {
        id: row.get(0)?,
        resource_id: row.get(1)?,
        user_key: row.get(2)?,
        session: row.get(3)?,
        permissions: row.get(4)?,
        launched: row.get(5)?,
        user_agent: row.get(6)?,
        parameters: row.get(7)?,
    })
}

/// The visit bundle: the visit's 7 columns (`id, user_key, session,
/// permissions, launched, user_agent, parameters`), the resource's 6, the
/// consumer's 7, then the context's 5 (`id, context_id, title, label,
/// types`) and the user's 6 (`id, user_id, given_name, family_name,
/// full_name, email`), the last two NULL when absent.
pub(super) fn bundle(row: &Row<'_>) -> Result<BundleRow> {
    Ok(BundleRow {
        v_id: row.get(0)?,
        v_user_key: row.get(1)?,
        v_session: row.get(2)?,
        v_permissions: row.get(3)?,
        v_launched: row.get(4)?,
        v_user_agent: row.get(5)?,
        v_parameters: row.get(6)?,
        r_id: row.get(7)?,
        r_consumer_id: row.get(8)?,
        r_context_key: row.get(9)?,
        r_link_id: row.get(10)?,
        r_title: row.get(11)?,
        r_description: row.get(12)?,
        c_id: row.get(13)?,
        c_silo_id: row.get(14)?,
        c_handle: row.get(15)?,
        c_key: row.get(16)?,
        c_secret: row.get(17)?,
        c_enabled: row.get(18)?,
        c_created: row.get(19)?,
        x_id: row.get(20)?,
        x_context_id: row.get(21)?,
        x_title: row.get(22)?,
        x_label: row.get(23)?,
        x_types: row.get(24)?,
        u_id: row.get(25)?,
        u_user_id: row.get(26)?,
        u_given_name: row.get(27)?,
        u_family_name: row.get(28)?,
        u_full_name: row.get(29)?,
        u_email: row.get(30)?,
    })
}
