//! The notices on PostgreSQL. Function names match `sqlite.rs` one for one;
//! the SQL is written here, next to the function that runs it.

use sqlx::postgres::PgPool;

use super::{NewNotice, NoticeRow};

pub(super) async fn list_notices(
    pool: &PgPool,
    context: i64,
) -> Result<Vec<NoticeRow>, sqlx::Error> {
    const SQL: &str = "SELECT n.id, n.context_key, n.user_key, n.title, n.description, \
                              n.created, n.updated, \
                              u.given_name, u.family_name, u.full_name, u.email \
                       FROM notices n JOIN users u ON u.id = n.user_key \
                       WHERE n.context_key = $1 \
                       ORDER BY n.updated DESC, n.id DESC";
    sqlx::query_as(SQL).bind(context).fetch_all(pool).await
}

pub(super) async fn find_notice(
    pool: &PgPool,
    context: i64,
    id: i64,
) -> Result<Option<NoticeRow>, sqlx::Error> {
    const SQL: &str = "SELECT n.id, n.context_key, n.user_key, n.title, n.description, \
                              n.created, n.updated, \
                              u.given_name, u.family_name, u.full_name, u.email \
                       FROM notices n JOIN users u ON u.id = n.user_key \
                       WHERE n.context_key = $1 AND n.id = $2";
    sqlx::query_as(SQL)
        .bind(context)
        .bind(id)
        .fetch_optional(pool)
        .await
}

pub(super) async fn insert_notice(
    pool: &PgPool,
    notice: &NewNotice<'_>,
) -> Result<i64, sqlx::Error> {
    const SQL: &str = "INSERT INTO notices \
                           (context_key, user_key, title, description, created, updated) \
                       VALUES ($1, $2, $3, $4, $5, $6) \
                       RETURNING id";
    sqlx::query_scalar(SQL)
        .bind(notice.context.0)
        .bind(notice.author.0)
        .bind(notice.title)
        .bind(notice.description)
        .bind(notice.now)
        .bind(notice.now)
        .fetch_one(pool)
        .await
}

pub(super) async fn update_notice(
    pool: &PgPool,
    context: i64,
    id: i64,
    author: i64,
    title: &str,
    description: Option<&str>,
    now: i64,
) -> Result<u64, sqlx::Error> {
    const SQL: &str = "UPDATE notices SET title = $1, description = $2, updated = $3 \
                       WHERE id = $4 AND context_key = $5 AND user_key = $6";
    let done = sqlx::query(SQL)
        .bind(title)
        .bind(description)
        .bind(now)
        .bind(id)
        .bind(context)
        .bind(author)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

pub(super) async fn delete_notice(
    pool: &PgPool,
    context: i64,
    id: i64,
) -> Result<u64, sqlx::Error> {
    const SQL: &str = "DELETE FROM notices WHERE id = $1 AND context_key = $2";
    let done = sqlx::query(SQL)
        .bind(id)
        .bind(context)
        .execute(pool)
        .await?;
    Ok(done.rows_affected())
}

pub(super) async fn count_notices(pool: &PgPool) -> Result<i64, sqlx::Error> {
    const SQL: &str = "SELECT COUNT(*) FROM notices";
    sqlx::query_scalar(SQL).fetch_one(pool).await
}
