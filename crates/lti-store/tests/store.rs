//! The store suite: every test is written once and runs on a SQLite file,
//! an in-memory SQLite database and PostgreSQL (`LTI_TEST_DATABASE_URL`).
//!
//! Ports of Pyslet's `unittests/test_imsbltiv1p0.py` (spec §11.1) are named
//! after the test they port.

use std::time::{Duration, Instant};

use lti_core::{
    AppCipher, AppSecret, ConsumerId, ConsumerRecord, ContextData, LaunchRecord, NewConsumer,
    Permissions, ResourceData, ResourceId, SealedSecret, Store, StoreError, StoreResult,
    StoredAppKey, UserData,
};
use lti_store::Db;
use lti_store::testing::{self, Table, count_rows, raw_consumer_secret};
use sqlx::Connection;

/// The clock of Pyslet's OAuth tests.
const T0: i64 = 1_420_370_306;

fn sealed(text: &str) -> SealedSecret {
    SealedSecret::from_cipher_text(text)
}

/// A silo named after `key` holding one consumer with that key.
async fn new_consumer(store: &Db, key: &str) -> StoreResult<ConsumerRecord> {
    testing::new_consumer(store, key, T0).await
}

fn context(context_id: &str) -> ContextData {
    ContextData {
        context_id: context_id.to_owned(),
        ..ContextData::default()
    }
}

fn resource(link_id: &str) -> ResourceData {
    ResourceData {
        link_id: link_id.to_owned(),
        ..ResourceData::default()
    }
}

fn user(user_id: &str) -> UserData {
    UserData {
        user_id: user_id.to_owned(),
        ..UserData::default()
    }
}

/// A launch of `link` in `session`, without context or user.
fn launch(consumer: ConsumerId, session: &str, link: &str) -> LaunchRecord {
    LaunchRecord {
        consumer,
        context: None,
        resource: resource(link),
        user: None,
        session: session.to_owned(),
        new_session: false,
        permissions: Permissions::READ,
        user_agent: Some("test-agent/1.0".to_owned()),
        parameters: vec![
            (
                "lti_message_type".to_owned(),
                "basic-lti-launch-request".to_owned(),
            ),
            ("resource_link_id".to_owned(), link.to_owned()),
        ],
        now: T0,
    }
}

/// The same launch by `user_id`.
fn launch_as(consumer: ConsumerId, session: &str, link: &str, user_id: &str) -> LaunchRecord {
    LaunchRecord {
        user: Some(user(user_id)),
        ..launch(consumer, session, link)
    }
}

/// The resources of a session's attached visits, oldest first.
async fn session_resources(store: &Db, session: &str) -> StoreResult<Vec<ResourceId>> {
    Ok(store
        .session_visits(session)
        .await?
        .into_iter()
        .map(|visit| visit.resource)
        .collect())
}

lti_store::store_tests! {
    /// Pyslet `LTIConsumerTests.test_consumer`.
    async fn consumer_create_reload_update(store) {
        let silo = store.create_silo("testing").await?;
        let created = store
            .create_consumer(NewConsumer {
                silo: silo.id,
                handle: "Test Consumer".to_owned(),
                key: "12345".to_owned(),
                secret: sealed("0:c2VjcmV0"),
                now: T0,
            })
            .await?;
        assert_eq!(created.silo, silo.id);
        assert_eq!(created.handle, "Test Consumer");
        assert_eq!(created.key, "12345");
        assert_eq!(created.secret, sealed("0:c2VjcmV0"));
        assert!(created.enabled);
        assert_eq!(created.created, T0);
        assert_eq!(store.find_consumer_by_key("12345").await?, Some(created.clone()));
        assert_eq!(store.find_consumer(created.id).await?, Some(created.clone()));
        assert_eq!(store.find_consumer_by_key("54321").await?, None);

        store.update_consumer_handle(created.id, "updated").await?;
        store.set_consumer_secret(created.id, &sealed("0:cGFzc3dvcmQ=")).await?;
        let reloaded = store.find_consumer(created.id).await?.ok_or("consumer gone")?;
        assert_eq!(reloaded.handle, "updated");
        assert_eq!(reloaded.secret, sealed("0:cGFzc3dvcmQ="));
        assert_eq!(reloaded.key, "12345", "the key never changes");
        assert_eq!(reloaded.created, T0);

        store.set_consumer_enabled(created.id, false).await?;
        assert!(!store.find_consumer(created.id).await?.ok_or("gone")?.enabled);
        store.set_consumer_enabled(created.id, true).await?;
        assert!(store.find_consumer(created.id).await?.ok_or("gone")?.enabled);

        let missing = ConsumerId(created.id.0 + 1000);
        assert!(matches!(
            store.update_consumer_handle(missing, "x").await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.set_consumer_secret(missing, &sealed("0:eA==")).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.set_consumer_enabled(missing, false).await,
            Err(StoreError::NotFound(_))
        ));

        let other = store
            .create_consumer(NewConsumer {
                silo: silo.id,
                handle: "Other".to_owned(),
                key: "00000".to_owned(),
                secret: sealed("0:c2VjcmV0"),
                now: T0 + 1,
            })
            .await?;
        let keys: Vec<String> =
            store.list_consumers(silo.id).await?.into_iter().map(|c| c.key).collect();
        assert_eq!(keys, ["00000", "12345"]);
        assert_eq!(store.find_consumer_by_key("00000").await?, Some(other));
        Ok(())
    }

    /// Pyslet `test_default_secret` / `test_default_key`: keys are unique
    /// across silos, secrets need not be.
    async fn duplicate_consumer_key_is_a_conflict(store) {
        let first = new_consumer(&store, "dup").await?;
        let silo2 = store.create_silo("second").await?;
        let duplicate = NewConsumer {
            silo: silo2.id,
            handle: "again".to_owned(),
            key: "dup".to_owned(),
            secret: sealed("0:b3RoZXI="),
            now: T0,
        };
        assert!(matches!(
            store.create_consumer(duplicate.clone()).await,
            Err(StoreError::Conflict(_))
        ));
        let same_secret = NewConsumer {
            key: "not-dup".to_owned(),
            secret: first.secret.clone(),
            ..duplicate.clone()
        };
        store.create_consumer(same_secret).await?;
        let empty_key = NewConsumer {
            key: String::new(),
            ..duplicate.clone()
        };
        assert!(matches!(
            store.create_consumer(empty_key).await,
            Err(StoreError::Invalid(_))
        ));
        let no_silo = NewConsumer {
            silo: lti_core::SiloId(silo2.id.0 + 1000),
            key: "orphan".to_owned(),
            ..duplicate
        };
        assert!(matches!(
            store.create_consumer(no_silo).await,
            Err(StoreError::NotFound(_))
        ));
        assert_eq!(count_rows(&store, Table::Consumers).await?, 2);
        Ok(())
    }

    async fn silos(store) {
        let b = store.create_silo("b-silo").await?;
        let a = store.create_silo("a-silo").await?;
        assert_eq!(store.list_silos().await?, vec![a.clone(), b.clone()]);
        assert_eq!(store.find_silo_by_slug("a-silo").await?, Some(a.clone()));
        assert_eq!(store.find_silo_by_slug("c-silo").await?, None);
        assert!(matches!(store.create_silo("a-silo").await, Err(StoreError::Conflict(_))));
        assert!(matches!(store.create_silo("").await, Err(StoreError::Invalid(_))));
        assert!(store.delete_silo(a.id).await?);
        assert!(!store.delete_silo(a.id).await?);
        assert_eq!(store.list_silos().await?, vec![b]);
        Ok(())
    }

    /// Pyslet `LTIConsumerTests.test_nonces`: nonces are per consumer, and
    /// the empty nonce is a nonce like any other.
    async fn nonces_are_per_consumer(store) {
        let c1 = new_consumer(&store, "c1").await?.id;
        let c2 = new_consumer(&store, "c2").await?.id;
        assert!(store.record_nonce(c1, "nonce", T0).await?);
        assert!(!store.record_nonce(c1, "nonce", T0).await?);
        assert!(store.record_nonce(c2, "nonce", T0).await?);
        assert!(store.record_nonce(c1, "other", T0).await?);
        assert!(store.record_nonce(c1, "", T0).await?);
        assert!(!store.record_nonce(c1, "", T0 + 1).await?);
        assert!(store.record_nonce(c2, "", T0).await?);
        assert_eq!(count_rows(&store, Table::Nonces).await?, 5);
        Ok(())
    }

    /// Pyslet `LTIProviderTests.test_nonces`, at second precision: reuse
    /// after 89 min 59 s and after exactly 90 min is a replay; after 90 min
    /// 1 s it is accepted (spec §5.3).
    async fn nonce_window(store) {
        let c = new_consumer(&store, "12345").await?.id;
        assert!(store.record_nonce(c, "n1", T0).await?);
        assert!(!store.record_nonce(c, "n1", T0).await?);
        assert!(store.record_nonce(c, "n2", T0).await?);
        assert!(!store.record_nonce(c, "n1", T0 + 89 * 60 + 59).await?);
        assert!(!store.record_nonce(c, "n1", T0 + 90 * 60).await?);
        // A rejected replay did not refresh the nonce.
        assert!(store.record_nonce(c, "n1", T0 + 90 * 60 + 1).await?);
        // An accepted reuse did: the window starts again.
        assert!(!store.record_nonce(c, "n1", T0 + 90 * 60 + 2).await?);
        assert!(!store.record_nonce(c, "n1", T0 + 2 * 90 * 60 + 1).await?);
        assert!(store.record_nonce(c, "n1", T0 + 2 * 90 * 60 + 2).await?);
        Ok(())
    }

    async fn prune_nonces(store) {
        let c = new_consumer(&store, "c").await?.id;
        assert!(store.record_nonce(c, "old", T0).await?);
        assert!(store.record_nonce(c, "new", T0 + 100).await?);
        // Nothing is older than the window yet.
        assert_eq!(store.prune_nonces(T0 + 5400).await?, 0);
        assert_eq!(store.prune_nonces(T0 + 5400 + 50).await?, 1);
        assert_eq!(count_rows(&store, Table::Nonces).await?, 1);
        assert!(!store.record_nonce(c, "new", T0 + 5400 + 50).await?);
        assert!(store.record_nonce(c, "old", T0 + 5400 + 50).await?);
        Ok(())
    }

    /// Pyslet `test_context` and `ToolProviderAppTests.test_set_launch_group`.
    async fn contexts_get_or_create(store) {
        let c = new_consumer(&store, "c").await?;
        let data = ContextData {
            context_id: "gid".to_owned(),
            title: Some("Group101".to_owned()),
            label: Some("G101".to_owned()),
            types: Some("urn:lti:context-type:ims/lis/Group".to_owned()),
        };
        let created = store.upsert_context(c.id, &data).await?;
        assert_eq!(created.consumer, c.id);
        assert_eq!(created.context_id, "gid");
        assert_eq!(created.title.as_deref(), Some("Group101"));
        assert_eq!(created.label.as_deref(), Some("G101"));
        assert_eq!(created.types.as_deref(), Some("urn:lti:context-type:ims/lis/Group"));
        assert_eq!(count_rows(&store, Table::Resources).await?, 0);

        // Looked up again without values: the same record.
        assert_eq!(store.upsert_context(c.id, &context("gid")).await?, created);
        // A new title updates; an empty label is absent and keeps the old.
        let changed = ContextData {
            title: Some("New Title".to_owned()),
            label: Some(String::new()),
            ..context("gid")
        };
        let updated = store.upsert_context(c.id, &changed).await?;
        assert_eq!(updated.key, created.key);
        assert_eq!(updated.title.as_deref(), Some("New Title"));
        assert_eq!(updated.label.as_deref(), Some("G101"));
        assert_eq!(count_rows(&store, Table::Contexts).await?, 1);

        // Per consumer; empty values are stored as NULL.
        let c2 = new_consumer(&store, "c2").await?;
        let blank = ContextData { title: Some(String::new()), ..context("gid") };
        let other = store.upsert_context(c2.id, &blank).await?;
        assert_ne!(other.key, created.key);
        assert_eq!(other.title, None);
        assert!(matches!(
            store.upsert_context(c.id, &context("")).await,
            Err(StoreError::Invalid(_))
        ));

        // A launch without context_id writes no context.
        let outcome = store.record_launch(launch(c.id, "s", "r")).await?;
        assert_eq!(outcome.context, None);
        assert_eq!(count_rows(&store, Table::Contexts).await?, 2);
        // One with a context binds it.
        let with = LaunchRecord { context: Some(context("gid")), ..launch(c.id, "s", "r2") };
        let outcome = store.record_launch(with).await?;
        assert_eq!(outcome.context, Some(created.key));
        assert_eq!(
            store.find_resource(outcome.resource).await?.ok_or("no resource")?.context,
            Some(created.key)
        );
        Ok(())
    }

    /// Pyslet `test_resource` and `ToolProviderAppTests.test_set_launch_resource`.
    async fn resources_get_or_create(store) {
        let c = new_consumer(&store, "c").await?;
        let data = ResourceData {
            link_id: "rlink".to_owned(),
            title: Some("A Resource".to_owned()),
            description: Some("A description".to_owned()),
        };
        let created = store.upsert_resource(c.id, None, &data).await?;
        assert_eq!(created.consumer, c.id);
        assert_eq!(created.context, None);
        assert_eq!(created.link_id, "rlink");
        assert_eq!(created.title.as_deref(), Some("A Resource"));
        assert_eq!(created.description.as_deref(), Some("A description"));
        assert!(created.id.get() >= 0);
        assert_eq!(store.find_resource(created.id).await?, Some(created.clone()));
        assert_eq!(store.upsert_resource(c.id, None, &resource("rlink")).await?, created);

        let retitled = ResourceData { title: Some("New Title".to_owned()), ..resource("rlink") };
        let updated = store.upsert_resource(c.id, None, &retitled).await?;
        assert_eq!(updated.id, created.id);
        assert_eq!(updated.title.as_deref(), Some("New Title"));
        assert_eq!(updated.description.as_deref(), Some("A description"));
        assert_eq!(store.find_resource(created.id).await?, Some(updated));

        // A context-less resource stays context-less; a new link is bound.
        let group = store.upsert_context(c.id, &context("gid")).await?;
        let again = store.upsert_resource(c.id, Some(group.key), &resource("rlink")).await?;
        assert_eq!(again.context, None);
        let bound = store.upsert_resource(c.id, Some(group.key), &resource("rlink2")).await?;
        assert_eq!(bound.context, Some(group.key));
        assert_ne!(bound.id, created.id);
        // ... and a launch from a context does not change that either.
        let from_group = LaunchRecord { context: Some(context("gid")), ..launch(c.id, "s", "rlink") };
        let outcome = store.record_launch(from_group).await?;
        assert_eq!(outcome.resource, created.id);
        assert_eq!(store.find_resource(created.id).await?.ok_or("gone")?.context, None);
        // ... nor a later launch from another context.
        let moved = store.upsert_resource(c.id, None, &resource("rlink2")).await?;
        assert_eq!(moved.context, Some(group.key));

        assert_eq!(count_rows(&store, Table::Visits).await?, 1);
        assert!(matches!(
            store.upsert_resource(c.id, None, &resource("")).await,
            Err(StoreError::Invalid(_))
        ));
        let unknown = ResourceId::new(created.id.get() ^ 1).ok_or("negative")?;
        assert_eq!(store.find_resource(unknown).await?, None);
        Ok(())
    }

    /// Pyslet `test_user` and `ToolProviderAppTests.test_set_launch_user`.
    async fn users_get_or_create(store) {
        let c = new_consumer(&store, "c").await?;
        let data = UserData {
            user_id: "steve".to_owned(),
            given_name: Some("Steve".to_owned()),
            family_name: Some("Lay".to_owned()),
            full_name: Some("Steve Lay".to_owned()),
            email: Some("steve@example.com".to_owned()),
        };
        let created = store.upsert_user(c.id, &data).await?;
        assert_eq!(created.consumer, c.id);
        assert_eq!(created.user_id, "steve");
        assert_eq!(created.given_name.as_deref(), Some("Steve"));
        assert_eq!(created.family_name.as_deref(), Some("Lay"));
        assert_eq!(created.full_name.as_deref(), Some("Steve Lay"));
        assert_eq!(created.email.as_deref(), Some("steve@example.com"));
        assert_eq!(store.upsert_user(c.id, &user("steve")).await?, created);

        let partial = UserData {
            family_name: Some("Layman".to_owned()),
            full_name: Some("Steve Layman".to_owned()),
            email: Some(String::new()),
            ..user("steve")
        };
        let updated = store.upsert_user(c.id, &partial).await?;
        assert_eq!(updated.key, created.key);
        assert_eq!(updated.given_name.as_deref(), Some("Steve"));
        assert_eq!(updated.family_name.as_deref(), Some("Layman"));
        assert_eq!(updated.full_name.as_deref(), Some("Steve Layman"));
        assert_eq!(updated.email.as_deref(), Some("steve@example.com"));
        assert_eq!(count_rows(&store, Table::Visits).await?, 0);

        let c2 = new_consumer(&store, "c2").await?;
        let other = store.upsert_user(c2.id, &user("steve")).await?;
        assert_ne!(other.key, created.key);
        assert_eq!((other.given_name, other.email), (None, None));
        assert!(matches!(store.upsert_user(c.id, &user("")).await, Err(StoreError::Invalid(_))));

        // A launch without user_id has no user and writes none.
        let outcome = store.record_launch(launch(c.id, "s", "r")).await?;
        assert_eq!(outcome.user, None);
        assert_eq!(count_rows(&store, Table::Users).await?, 2);
        Ok(())
    }

    /// Pyslet `ToolProviderAppTests.test_new_visit`.
    async fn new_visit(store) {
        let c = new_consumer(&store, "c").await?.id;
        let first = store.record_launch(launch_as(c, "unestablished", "r1", "u1")).await?;
        assert_eq!(first.detached, 0);
        let visits = store.session_visits("unestablished").await?;
        assert_eq!(visits.len(), 1);
        assert_eq!(visits[0].id, first.visit);
        assert_eq!(visits[0].session.as_deref(), Some("unestablished"));

        // Establishing the session re-keys the visit.
        assert_eq!(store.rekey_session("unestablished", "established").await?, 1);
        assert!(store.session_visits("unestablished").await?.is_empty());
        let visits = store.session_visits("established").await?;
        assert_eq!(visits.iter().map(|v| v.id).collect::<Vec<_>>(), [first.visit]);

        // Relaunching the same resource: a new visit, the old one detached.
        let second = store.record_launch(launch_as(c, "established", "r1", "u1")).await?;
        assert_ne!(second.visit, first.visit);
        assert_eq!(second.resource, first.resource);
        assert_eq!(second.detached, 1);
        let visits = store.session_visits("established").await?;
        assert_eq!(visits.iter().map(|v| v.id).collect::<Vec<_>>(), [second.visit]);

        // Another resource as a different user detaches the previous user's.
        let third = store.record_launch(launch_as(c, "established", "r2", "u2")).await?;
        assert_eq!(third.detached, 1);
        assert_eq!(session_resources(&store, "established").await?, [third.resource]);

        // Same user, third resource: both stay.
        let fourth = store.record_launch(launch_as(c, "established", "r3", "u2")).await?;
        assert_eq!(fourth.detached, 0);
        assert_eq!(
            session_resources(&store, "established").await?,
            [third.resource, fourth.resource]
        );
        assert_eq!(count_rows(&store, Table::Visits).await?, 4);
        Ok(())
    }

    /// Spec §5.5: NULL user vs NULL user is the same user, NULL vs a user is
    /// not, and visits of other consumers are never touched.
    async fn detach_rules(store) {
        let c = new_consumer(&store, "c").await?.id;
        let other = new_consumer(&store, "other").await?.id;
        let foreign = store.record_launch(launch_as(other, "s", "x1", "someone")).await?;
        let a = store.record_launch(launch(c, "s", "r1")).await?;
        let b = store.record_launch(launch(c, "s", "r2")).await?;
        assert_eq!(b.detached, 0, "anonymous and anonymous are the same user");
        assert_eq!(
            session_resources(&store, "s").await?,
            [foreign.resource, a.resource, b.resource]
        );
        let named = store.record_launch(launch_as(c, "s", "r3", "u1")).await?;
        assert_eq!(named.detached, 2, "a user differs from no user");
        let anonymous = store.record_launch(launch(c, "s", "r4")).await?;
        assert_eq!(anonymous.detached, 1, "no user differs from a user");
        assert_eq!(session_resources(&store, "s").await?, [foreign.resource, anonymous.resource]);
        // The other consumer's same user id is a different user, but its
        // visit is not this consumer's to detach.
        let same_id = store.record_launch(launch_as(c, "s", "r5", "someone")).await?;
        assert_eq!(same_id.detached, 1);
        assert_eq!(session_resources(&store, "s").await?, [foreign.resource, same_id.resource]);
        Ok(())
    }

    /// A launch writes its context, resource and user by the upserts'
    /// rules (spec §5.4): a non-empty value replaces the stored one, an
    /// empty or absent one keeps it, and a resource keeps its context. With
    /// a context but no user, the visit has no user.
    async fn launches_update_records(store) {
        let c = new_consumer(&store, "c").await?.id;
        let first = LaunchRecord {
            context: Some(ContextData {
                title: Some("Course".to_owned()),
                label: Some("C1".to_owned()),
                ..context("ctx")
            }),
            resource: ResourceData {
                title: Some("Quiz".to_owned()),
                description: Some("First".to_owned()),
                ..resource("r1")
            },
            ..launch(c, "s", "r1")
        };
        let first = store.record_launch(first).await?;
        assert_eq!((first.user, first.detached), (None, 0));
        let bundle = store.find_visit("s", first.resource).await?.ok_or("no visit")?;
        assert_eq!((bundle.user, bundle.visit.user), (None, None));
        let ctx = bundle.context.ok_or("no context")?;
        assert_eq!(Some(ctx.key), first.context);
        assert_eq!((ctx.title.as_deref(), ctx.label.as_deref()), (Some("Course"), Some("C1")));

        // Blank and absent values keep, new ones replace; the user is new.
        let second = LaunchRecord {
            context: Some(ContextData {
                title: Some(String::new()),
                label: Some("C2".to_owned()),
                ..context("ctx")
            }),
            resource: ResourceData { description: Some("Second".to_owned()), ..resource("r1") },
            user: Some(UserData {
                full_name: Some("Jane Doe".to_owned()),
                email: Some("jane@example.com".to_owned()),
                ..user("jane")
            }),
            ..launch(c, "s", "r1")
        };
        let second = store.record_launch(second).await?;
        assert_eq!((second.resource, second.context), (first.resource, first.context));
        assert_eq!(second.detached, 1, "the same resource's visit");
        let bundle = store.find_visit("s", first.resource).await?.ok_or("no visit")?;
        assert_eq!(bundle.visit.id, second.visit);
        assert_eq!(bundle.visit.user, second.user);
        let ctx = bundle.context.ok_or("no context")?;
        assert_eq!((ctx.title.as_deref(), ctx.label.as_deref()), (Some("Course"), Some("C2")));
        assert_eq!(
            (bundle.resource.title.as_deref(), bundle.resource.description.as_deref()),
            (Some("Quiz"), Some("Second"))
        );

        // The same user from another context: the user's blank email keeps
        // the stored one; the resource stays in its first context.
        let third = LaunchRecord {
            context: Some(context("ctx2")),
            user: Some(UserData {
                given_name: Some("Jane".to_owned()),
                email: Some(String::new()),
                ..user("jane")
            }),
            ..launch(c, "s", "r1")
        };
        let third = store.record_launch(third).await?;
        assert_eq!(third.user, second.user);
        assert_ne!(third.context, first.context, "the launch's own context");
        assert_eq!(third.detached, 1);
        let bundle = store.find_visit("s", first.resource).await?.ok_or("no visit")?;
        assert_eq!(bundle.resource.context, first.context);
        let person = bundle.user.ok_or("no user")?;
        assert_eq!(
            (person.given_name.as_deref(), person.full_name.as_deref(), person.email.as_deref()),
            (Some("Jane"), Some("Jane Doe"), Some("jane@example.com"))
        );
        assert_eq!(count_rows(&store, Table::Contexts).await?, 2);
        assert_eq!(count_rows(&store, Table::Resources).await?, 1);
        assert_eq!(count_rows(&store, Table::Users).await?, 1);
        assert_eq!(count_rows(&store, Table::Visits).await?, 3);
        assert_eq!(store.session_visits("s").await?.len(), 1);
        Ok(())
    }

    /// Spec §5.6 done right (Pyslet QL-10).
    async fn merge_sessions(store) {
        let c = new_consumer(&store, "c").await?.id;
        let c2 = new_consumer(&store, "c2").await?.id;
        let a = store.record_launch(launch_as(c, "main", "r1", "u1")).await?;
        let b = store.record_launch(launch_as(c, "main", "r2", "u1")).await?;
        let d = store.record_launch(launch_as(c2, "main", "x1", "u9")).await?;
        let e = store
            .record_launch(LaunchRecord { now: T0 + 10, ..launch_as(c, "framed", "r1", "u1") })
            .await?;
        let f = store
            .record_launch(LaunchRecord { now: T0 + 11, ..launch_as(c, "framed", "r3", "u1") })
            .await?;
        assert_eq!(store.merge_sessions("framed", "main").await?, 2);
        assert!(store.session_visits("framed").await?.is_empty());
        let main: Vec<_> = store.session_visits("main").await?.into_iter().map(|v| v.id).collect();
        // a (same resource as e) is detached; b, d stay; e, f moved in.
        assert_eq!(main, [b.visit, d.visit, e.visit, f.visit]);
        assert!(store.find_visit("main", a.resource).await?.ok_or("no visit")?.visit.id == e.visit);

        // A merged visit by another user detaches this consumer's visits
        // of the old user, not the other consumer's.
        let g = store
            .record_launch(LaunchRecord { now: T0 + 20, ..launch_as(c, "window", "r7", "u2") })
            .await?;
        assert_eq!(store.merge_sessions("window", "main").await?, 1);
        let main: Vec<_> = store.session_visits("main").await?.into_iter().map(|v| v.id).collect();
        assert_eq!(main, [d.visit, g.visit]);

        // Nothing to merge, or merging a session into itself: no change.
        assert_eq!(store.merge_sessions("nothing", "main").await?, 0);
        assert_eq!(store.merge_sessions("main", "main").await?, 0);
        assert_eq!(store.session_visits("main").await?.len(), 2);
        assert_eq!(count_rows(&store, Table::Visits).await?, 6);
        Ok(())
    }

    async fn find_visit_bundle(store) {
        let c = new_consumer(&store, "c").await?;
        let long_agent = format!("{}€€€", "A".repeat(254));
        let parameters = vec![
            ("roles".to_owned(), "Instructor".to_owned()),
            ("custom_x".to_owned(), "ünïcode & \"quotes\"".to_owned()),
            ("roles".to_owned(), "Learner".to_owned()),
        ];
        let full = LaunchRecord {
            context: Some(ContextData {
                title: Some("Course".to_owned()),
                label: Some("C1".to_owned()),
                types: Some("urn:lti:context-type:ims/lis/CourseSection".to_owned()),
                ..context("ctx")
            }),
            resource: ResourceData { title: Some("Quiz".to_owned()), ..resource("r1") },
            user: Some(UserData { full_name: Some("Jane Doe".to_owned()), ..user("jane") }),
            permissions: Permissions::READ | Permissions::WRITE | Permissions::CONFIGURE,
            user_agent: Some(long_agent.clone()),
            parameters: parameters.clone(),
            now: T0 + 5,
            ..launch(c.id, "sess", "r1")
        };
        let outcome = store.record_launch(full).await?;
        let bundle = store.find_visit("sess", outcome.resource).await?.ok_or("no visit")?;
        assert_eq!(bundle.visit.id, outcome.visit);
        assert_eq!(bundle.visit.resource, outcome.resource);
        assert_eq!(bundle.visit.user, outcome.user);
        assert_eq!(bundle.visit.session.as_deref(), Some("sess"));
        assert_eq!(bundle.visit.permissions, Permissions::ALL);
        assert_eq!(bundle.visit.launched, T0 + 5);
        assert_eq!(bundle.visit.parameters.pairs(), parameters);
        let agent = bundle.visit.user_agent.clone().ok_or("no user agent")?;
        assert_eq!(agent, "A".repeat(254), "cut before the first € (bytes 254..257)");
        assert!(long_agent.starts_with(&agent));
        assert_eq!(bundle.resource, store.find_resource(outcome.resource).await?.ok_or("gone")?);
        assert_eq!(bundle.resource.title.as_deref(), Some("Quiz"));
        let ctx = bundle.context.clone().ok_or("no context")?;
        assert_eq!(Some(ctx.key), outcome.context);
        assert_eq!(ctx.consumer, c.id);
        assert_eq!(
            (ctx.context_id.as_str(), ctx.title.as_deref(), ctx.label.as_deref()),
            ("ctx", Some("Course"), Some("C1"))
        );
        let person = bundle.user.clone().ok_or("no user")?;
        assert_eq!(Some(person.key), outcome.user);
        assert_eq!((person.user_id.as_str(), person.full_name.as_deref()), ("jane", Some("Jane Doe")));
        assert_eq!(person.given_name, None);
        assert_eq!(bundle.consumer, c);
        assert_eq!(bundle.visit, store.session_visits("sess").await?.remove(0));

        // Only this session's attached visit of this resource.
        assert_eq!(store.find_visit("other", outcome.resource).await?, None);
        let elsewhere = ResourceId::new(outcome.resource.get() ^ 1).ok_or("negative")?;
        assert_eq!(store.find_visit("sess", elsewhere).await?, None);

        // No context, no user, no user agent, no permissions.
        let bare = LaunchRecord {
            user_agent: Some(String::new()),
            permissions: Permissions::NONE,
            parameters: Vec::new(),
            ..launch(c.id, "sess2", "r2")
        };
        let outcome = store.record_launch(bare).await?;
        let bundle = store.find_visit("sess2", outcome.resource).await?.ok_or("no visit")?;
        assert_eq!((bundle.context, bundle.user, bundle.visit.user), (None, None, None));
        assert_eq!(bundle.visit.user_agent, None);
        assert_eq!(bundle.visit.permissions, Permissions::NONE);
        assert!(bundle.visit.parameters.pairs().is_empty());

        store.detach_session("sess2").await?;
        assert_eq!(store.find_visit("sess2", outcome.resource).await?, None);
        Ok(())
    }

    async fn sessions_rekey_and_detach(store) {
        let c = new_consumer(&store, "c").await?.id;
        store.record_launch(launch_as(c, "s1", "r1", "u")).await?;
        store.record_launch(launch_as(c, "s1", "r2", "u")).await?;
        store.record_launch(launch_as(c, "s2", "r1", "u")).await?;
        assert_eq!(store.rekey_session("nobody", "s9").await?, 0);
        assert_eq!(store.rekey_session("s1", "s1").await?, 0);
        assert!(matches!(store.rekey_session("s1", "").await, Err(StoreError::Invalid(_))));
        assert_eq!(store.rekey_session("s1", "s3").await?, 2);
        assert_eq!(store.session_visits("s3").await?.len(), 2);
        assert_eq!(store.detach_session("s3").await?, 2);
        assert!(store.session_visits("s3").await?.is_empty());
        assert_eq!(store.session_visits("s2").await?.len(), 1);
        assert_eq!(store.detach_session("s3").await?, 0);
        assert_eq!(count_rows(&store, Table::Visits).await?, 3);
        Ok(())
    }

    async fn prune_detached_visits(store) {
        let c = new_consumer(&store, "c").await?.id;
        store.record_launch(launch(c, "old", "r1")).await?;
        store.record_launch(LaunchRecord { now: T0 + 100, ..launch(c, "new", "r2") }).await?;
        store.record_launch(launch(c, "attached", "r3")).await?;
        store.detach_session("old").await?;
        store.detach_session("new").await?;
        assert_eq!(store.prune_detached_visits(T0).await?, 0, "strictly before");
        assert_eq!(store.prune_detached_visits(T0 + 50).await?, 1);
        assert_eq!(store.prune_detached_visits(T0 + 1000).await?, 1);
        assert_eq!(count_rows(&store, Table::Visits).await?, 1, "attached visits stay");
        assert_eq!(store.session_visits("attached").await?.len(), 1);
        Ok(())
    }

    async fn app_keys_keep_the_first(store) {
        assert!(store.app_keys().await?.is_empty());
        let first = StoredAppKey { keynum: 7, wrapped: "8:Zmlyc3Q=".to_owned(), switch_over: T0 };
        assert_eq!(store.save_app_key(&first).await?, first);
        let racer = StoredAppKey { keynum: 7, wrapped: "9:c2Vjb25k".to_owned(), switch_over: T0 + 1 };
        assert_eq!(store.save_app_key(&racer).await?, first, "the stored record wins");
        let high = StoredAppKey { keynum: u32::MAX, wrapped: "0:aGk=".to_owned(), switch_over: T0 };
        let low = StoredAppKey { keynum: 0, wrapped: "7:bG8=".to_owned(), switch_over: T0 - 1 };
        store.save_app_key(&high).await?;
        store.save_app_key(&low).await?;
        assert_eq!(store.app_keys().await?, vec![low, first, high]);
        Ok(())
    }

    /// Exactly one of many concurrent uses of a nonce wins.
    async fn concurrent_nonces(store) {
        let c = new_consumer(&store, "c").await?.id;
        let calls = (0..100).map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.record_nonce(c, "race", T0).await })
        });
        let mut fresh = 0;
        for call in futures::future::join_all(calls).await {
            if call?? {
                fresh += 1;
            }
        }
        assert_eq!(fresh, 1);
        Ok(())
    }

    /// `record_fresh_launch` stores the launch only with a fresh nonce, and
    /// the nonce it records counts for `record_nonce` too (spec §5.3).
    async fn fresh_launches_record_their_nonce(store) {
        let c = new_consumer(&store, "c").await?.id;
        let first = store.record_fresh_launch("n1", launch_as(c, "s1", "r", "u")).await?;
        let first = first.ok_or("a fresh nonce was refused")?;
        assert_eq!(store.session_visits("s1").await?.len(), 1);
        assert!(!store.record_nonce(c, "n1", T0).await?, "the launch recorded its nonce");

        let replay = store.record_fresh_launch("n1", launch_as(c, "s2", "r2", "u2")).await?;
        assert!(replay.is_none(), "{replay:?}");
        assert!(store.session_visits("s2").await?.is_empty());
        assert_eq!(count_rows(&store, Table::Resources).await?, 1, "the replay wrote nothing");
        assert_eq!(count_rows(&store, Table::Users).await?, 1);
        assert_eq!(count_rows(&store, Table::Visits).await?, 1);

        assert!(store.record_nonce(c, "n2", T0).await?);
        let spent = store.record_fresh_launch("n2", launch(c, "s3", "r")).await?;
        assert!(spent.is_none(), "a nonce spent by record_nonce is a replay");

        let again = store.record_fresh_launch("n3", launch_as(c, "s1", "r", "u")).await?;
        let again = again.ok_or("a fresh nonce was refused")?;
        assert_eq!((again.resource, again.detached), (first.resource, 1));
        let later = LaunchRecord { now: T0 + 90 * 60 + 1, ..launch(c, "s4", "r") };
        assert!(store.record_fresh_launch("n1", later).await?.is_some(), "after the window");
        assert_eq!(count_rows(&store, Table::Nonces).await?, 3);
        Ok(())
    }

    /// A launch into a session made for it (`new_session`) skips the
    /// detach step and otherwise stores the same; the flag is the caller's
    /// promise that the session has no visits, so a launch that breaks it
    /// leaves them attached.
    async fn new_sessions_skip_the_detach_step(store) {
        let c = new_consumer(&store, "c").await?.id;
        for (nonce, session) in [(None, "fresh-1"), (Some("n1"), "fresh-2")] {
            let record = LaunchRecord { new_session: true, ..launch_as(c, session, "r", "u") };
            let outcome = match nonce {
                None => store.record_launch(record).await?,
                Some(nonce) => store
                    .record_fresh_launch(nonce, record)
                    .await?
                    .ok_or("a fresh nonce was refused")?,
            };
            assert_eq!(outcome.detached, 0);
            let bundle = store.find_visit(session, outcome.resource).await?;
            assert_eq!(bundle.map(|b| b.visit.id), Some(outcome.visit));
        }
        // The same link again in "fresh-1": the flag skips the detach (the
        // promise is broken here on purpose), without it the old visit goes.
        let kept = LaunchRecord { new_session: true, ..launch_as(c, "fresh-1", "r", "u") };
        assert_eq!(store.record_launch(kept).await?.detached, 0);
        assert_eq!(store.session_visits("fresh-1").await?.len(), 2);
        let replaced = store.record_fresh_launch("n2", launch_as(c, "fresh-1", "r", "u")).await?;
        assert_eq!(replaced.map(|o| o.detached), Some(2));
        assert_eq!(store.session_visits("fresh-1").await?.len(), 1);
        Ok(())
    }

    /// Of many concurrent launches with one nonce exactly one is stored.
    async fn concurrent_fresh_launches_with_one_nonce(store) {
        let c = new_consumer(&store, "c").await?.id;
        let launches = (0..50).map(|i| {
            let store = store.clone();
            let record = launch_as(c, &format!("session-{i}"), "link", &format!("user-{i}"));
            tokio::spawn(async move { store.record_fresh_launch("race", record).await })
        });
        let mut stored = 0;
        for outcome in futures::future::join_all(launches).await {
            if outcome??.is_some() {
                stored += 1;
            }
        }
        assert_eq!(stored, 1);
        assert_eq!(count_rows(&store, Table::Visits).await?, 1);
        assert_eq!(count_rows(&store, Table::Users).await?, 1);
        assert_eq!(count_rows(&store, Table::Nonces).await?, 1);
        Ok(())
    }

    /// Concurrent first launches of one new link all succeed and share its
    /// context, resource and user rows.
    async fn concurrent_first_launches(store) {
        let c = new_consumer(&store, "c").await?.id;
        let launches = (0..50).map(|i| {
            let store = store.clone();
            let record = LaunchRecord {
                context: Some(context("course")),
                ..launch_as(c, &format!("session-{i}"), "link", "user")
            };
            tokio::spawn(async move { store.record_launch(record).await })
        });
        let mut resources = Vec::new();
        for outcome in futures::future::join_all(launches).await {
            let outcome = outcome??;
            assert_eq!(outcome.detached, 0);
            resources.push(outcome.resource);
        }
        resources.dedup();
        assert_eq!(resources.len(), 1);
        assert_eq!(count_rows(&store, Table::Contexts).await?, 1);
        assert_eq!(count_rows(&store, Table::Resources).await?, 1);
        assert_eq!(count_rows(&store, Table::Users).await?, 1);
        assert_eq!(count_rows(&store, Table::Visits).await?, 50);
        Ok(())
    }

    /// Deleting a silo or a consumer removes everything below it, and only
    /// that.
    async fn cascading_deletes(store) {
        let silo1 = store.create_silo("one").await?;
        let silo2 = store.create_silo("two").await?;
        let mut consumers = Vec::new();
        for (silo, key) in [(silo1.id, "k1"), (silo2.id, "k2"), (silo1.id, "k3")] {
            let consumer = store
                .create_consumer(NewConsumer {
                    silo,
                    handle: key.to_owned(),
                    key: key.to_owned(),
                    secret: sealed("0:eA=="),
                    now: T0,
                })
                .await?;
            store.record_nonce(consumer.id, "n", T0).await?;
            let record = LaunchRecord {
                context: Some(context("ctx")),
                ..launch_as(consumer.id, &format!("s-{key}"), "r", "u")
            };
            let outcome = store.record_launch(record).await?;
            store.record_launch(LaunchRecord { now: T0 + 1, ..launch(consumer.id, "shared", "r") }).await?;
            consumers.push((consumer.id, key, outcome));
        }
        let tables = [Table::Consumers, Table::Nonces, Table::Contexts, Table::Resources, Table::Users];
        for table in tables {
            assert_eq!(count_rows(&store, table).await?, 3, "{table:?}");
        }
        assert_eq!(count_rows(&store, Table::Visits).await?, 6);

        let (k3, _, _) = consumers[2];
        assert!(store.delete_consumer(k3).await?);
        assert!(!store.delete_consumer(k3).await?);
        for table in tables {
            assert_eq!(count_rows(&store, table).await?, 2, "{table:?}");
        }
        assert_eq!(count_rows(&store, Table::Visits).await?, 4);
        for (id, key, outcome) in &consumers[..2] {
            assert!(store.find_consumer(*id).await?.is_some());
            assert!(store.find_visit(&format!("s-{key}"), outcome.resource).await?.is_some());
        }

        assert!(store.delete_silo(silo1.id).await?);
        for table in tables {
            assert_eq!(count_rows(&store, table).await?, 1, "{table:?}");
        }
        assert_eq!(count_rows(&store, Table::Visits).await?, 2);
        let (k1, _, _) = consumers[0];
        let (k2, _, k2_launch) = &consumers[1];
        assert_eq!(store.find_consumer(k1).await?, None);
        assert!(store.find_visit("s-k2", k2_launch.resource).await?.is_some());
        assert_eq!(store.list_consumers(silo2.id).await?.len(), 1);
        assert!(store.find_consumer(*k2).await?.is_some());
        Ok(())
    }

    /// The consumer secret is stored only as the application cipher's text.
    async fn secret_is_not_stored_in_plaintext(store) {
        let cipher = AppCipher::new(3, AppSecret::new("an application secret of 32 bytes")?);
        let text = cipher.encrypt_str("secret-plaintext-xyz", T0)?;
        let silo = store.create_silo("secrets").await?;
        let consumer = store
            .create_consumer(NewConsumer {
                silo: silo.id,
                handle: "h".to_owned(),
                key: "key".to_owned(),
                secret: SealedSecret::from_cipher_text(text.clone()),
                now: T0,
            })
            .await?;
        let raw = raw_consumer_secret(&store, consumer.id).await?;
        assert_eq!(raw, text);
        assert!(!raw.contains("secret-plaintext-xyz"), "{raw}");
        assert!(raw.starts_with("3:"), "{raw}");
        // It is a real sealed value: the cipher opens what the store returns.
        let loaded = store.find_consumer_by_key("key").await?.ok_or("gone")?;
        assert_eq!(cipher.decrypt_str(loaded.secret.as_cipher_text())?, "secret-plaintext-xyz");
        assert!(!format!("{loaded:?}").contains(&text), "Debug hides the secret");
        Ok(())
    }

    /// Launches whose futures are dropped at random moments (clients that
    /// disconnect) leave no half-done launch and no connection stuck in a
    /// transaction: later launches commit and are found.
    async fn cancelled_launches_leave_the_pool_healthy(store) {
        let c = new_consumer(&store, "c").await?.id;
        // How long a launch takes here and now, so the interruptions below
        // spread over all of it.
        let mut timings = Vec::new();
        for i in 0..7 {
            let started = Instant::now();
            store.record_launch(launch_as(c, &format!("warm-{i}"), "warm", "u-0")).await?;
            timings.push(started.elapsed());
        }
        timings.sort();
        let window = u64::try_from(timings[3].as_micros() * 2).unwrap_or(u64::MAX).max(1);
        for i in 0..200u64 {
            let record = LaunchRecord {
                context: Some(context(&format!("ctx-{}", i % 5))),
                ..launch_as(c, &format!("cancel-{i}"), &format!("r-{}", i % 10), &format!("u-{}", i % 7))
            };
            // Dropped at a random moment within twice a launch's time:
            // polled, with yields in between, until a deadline with
            // microsecond resolution (tokio's timers have millisecond
            // resolution), so it lands inside acquire, BEGIN, the upserts,
            // the insert or COMMIT.
            let mut random = [0u8; 8];
            getrandom::fill(&mut random)?;
            let delay = Duration::from_micros(u64::from_le_bytes(random) % window);
            let deadline = Instant::now() + delay;
            let mut launch = std::pin::pin!(store.record_launch(record));
            while Instant::now() < deadline {
                if futures::poll!(launch.as_mut()).is_ready() {
                    break;
                }
                tokio::task::yield_now().await;
            }
            // A single-statement write right after, which a connection left
            // inside a transaction would swallow uncommitted.
            assert!(store.record_nonce(c, &format!("n-{i}"), T0).await?);
        }
        if let Some(pool) = store.postgres_pool() {
            // Asked on a connection of its own: a stuck pooled connection
            // could otherwise answer for itself.
            let mut monitor = sqlx::postgres::PgConnection::connect_with(&pool.connect_options()).await?;
            // No connection of this store is left inside a transaction once
            // the interrupted launches have finished in the background.
            const STUCK: &str = "\
                SELECT COUNT(*) FROM pg_stat_activity \
                WHERE application_name = current_setting('application_name') \
                  AND state LIKE 'idle in transaction%' AND pid <> pg_backend_pid()";
            let mut stuck = -1i64;
            for _ in 0..50 {
                stuck = sqlx::query_scalar(STUCK).fetch_one(&mut monitor).await?;
                if stuck == 0 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            assert_eq!(stuck, 0, "connections left idle in transaction");
            // Every nonce recorded in between is committed.
            let nonces: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM nonces")
                .fetch_one(&mut monitor)
                .await?;
            assert_eq!(nonces, 200, "writes lost in an open transaction");
        }
        assert_eq!(count_rows(&store, Table::Nonces).await?, 200);
        // Every later launch commits and is found, on every connection of
        // the pool (they run concurrently so that all connections serve).
        let later = (0..40).map(|i| {
            let store = store.clone();
            let record = launch_as(c, &format!("after-{i}"), &format!("r-{}", i % 10), "u-0");
            tokio::spawn(async move {
                let outcome = tokio::time::timeout(Duration::from_secs(20), store.record_launch(record))
                    .await
                    .map_err(|_| StoreError::Backend("a launch hung".to_owned()))??;
                let bundle = store.find_visit(&format!("after-{i}"), outcome.resource).await?;
                Ok::<_, StoreError>((outcome, bundle))
            })
        });
        for result in futures::future::join_all(later).await {
            let (outcome, bundle) = result??;
            assert_eq!(bundle.ok_or("a committed launch is not found")?.visit.id, outcome.visit);
        }
        // Whatever the interrupted launches did, they did completely.
        for i in 0..200 {
            let visits = store.session_visits(&format!("cancel-{i}")).await?;
            assert!(visits.len() <= 1);
            for visit in visits {
                let bundle = store.find_visit(&format!("cancel-{i}"), visit.resource).await?;
                let bundle = bundle.ok_or("visit without its bundle")?;
                assert_eq!(bundle.context.ok_or("visit without its context")?.context_id, format!("ctx-{}", i % 5));
                assert_eq!(bundle.user.ok_or("visit without its user")?.user_id, format!("u-{}", i % 7));
            }
        }
        Ok(())
    }

    /// A launch that fails writes nothing.
    async fn failed_launches_write_nothing(store) {
        let c = new_consumer(&store, "c").await?.id;
        let invalid = [
            launch(c, "", "r"),
            launch(c, "s", ""),
            LaunchRecord { context: Some(context("")), ..launch(c, "s", "r") },
            LaunchRecord { user: Some(user("")), ..launch(c, "s", "r") },
        ];
        for record in invalid {
            assert!(matches!(store.record_launch(record).await, Err(StoreError::Invalid(_))));
        }
        let ghost = LaunchRecord {
            context: Some(context("ctx")),
            ..launch_as(ConsumerId(c.0 + 1000), "s", "r", "u")
        };
        assert!(matches!(store.record_launch(ghost.clone()).await, Err(StoreError::NotFound(_))));
        let with_nonce = store.record_fresh_launch("n", ghost).await;
        assert!(matches!(with_nonce, Err(StoreError::NotFound(_))), "{with_nonce:?}");
        let invalid = store.record_fresh_launch("n", launch(c, "s", "")).await;
        assert!(matches!(invalid, Err(StoreError::Invalid(_))), "{invalid:?}");
        for table in [Table::Contexts, Table::Resources, Table::Users, Table::Visits, Table::Nonces] {
            assert_eq!(count_rows(&store, table).await?, 0, "{table:?}");
        }
        Ok(())
    }
}
