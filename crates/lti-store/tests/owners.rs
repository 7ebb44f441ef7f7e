//! Owners (the admin console's accounts), silo lookup by id and consumer
//! usage counts, on every backend: a SQLite file, an in-memory SQLite
//! database and PostgreSQL (`LTI_TEST_DATABASE_URL`).

use lti_core::{
    ContextData, LaunchRecord, NewConsumer, NewOwner, OwnerId, PasswordHash, Permissions,
    ResourceData, SealedSecret, SiloId, Store, StoreError, UserData,
};
use lti_store::testing::{Table, count_rows};

/// The clock of Pyslet's OAuth tests.
const T0: i64 = 1_420_370_306;

/// Any PHC-looking string: the store never parses it.
fn hash(tag: &str) -> PasswordHash {
    PasswordHash::from_phc(format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ${tag}"))
}

fn new_owner(silo: SiloId, email: &str) -> NewOwner {
    NewOwner {
        silo,
        email: email.to_owned(),
        password: hash("first"),
        now: T0,
    }
}

lti_store::store_tests! {
    async fn owners_create_find_and_list(store) {
        let silo = store.create_silo("owned").await?;
        let other = store.create_silo("other").await?;
        let ada = store.create_owner(new_owner(silo.id, "  Ada@Example.EDU ")).await?;
        assert_eq!(ada.silo, silo.id);
        assert_eq!(ada.email, "ada@example.edu", "stored trimmed and lower-cased");
        assert_eq!(ada.password, hash("first"));
        assert_eq!(ada.session_epoch, 0);
        assert_eq!((ada.created, ada.updated), (T0, T0));

        assert_eq!(store.find_owner(ada.id).await?, Some(ada.clone()));
        assert_eq!(store.find_owner_by_email("ada@example.edu").await?, Some(ada.clone()));
        assert_eq!(
            store.find_owner_by_email(" ADA@example.edu\n").await?,
            Some(ada.clone()),
            "lookups normalize too"
        );
        assert_eq!(store.find_owner_by_email("bob@example.edu").await?, None);
        assert_eq!(store.find_owner(OwnerId(ada.id.0 + 1000)).await?, None);

        let zed = store.create_owner(new_owner(silo.id, "zed@example.edu")).await?;
        let bob = store.create_owner(new_owner(silo.id, "bob@example.edu")).await?;
        let carol = store.create_owner(new_owner(other.id, "carol@example.edu")).await?;
        let listed: Vec<_> = store.list_owners(silo.id).await?.into_iter().map(|o| o.id).collect();
        assert_eq!(listed, vec![ada.id, bob.id, zed.id], "by email, this silo only");
        assert_eq!(store.list_owners(other.id).await?, vec![carol]);
        assert_eq!(store.list_owners(SiloId(other.id.0 + 1000)).await?, vec![]);
        Ok(())
    }

    async fn owner_debug_hides_the_hash(store) {
        let silo = store.create_silo("s").await?;
        store.create_owner(new_owner(silo.id, "a@b.c")).await?;
        let listed = store.list_owners(silo.id).await?;
        let text = format!("{listed:?}");
        assert!(text.contains("a@b.c"), "{text}");
        assert!(!text.contains("argon2id"), "{text}");
        assert!(!text.contains("first"), "{text}");
        Ok(())
    }

    async fn duplicate_owner_email_is_a_conflict(store) {
        let one = store.create_silo("one").await?;
        let two = store.create_silo("two").await?;
        store.create_owner(new_owner(one.id, "a@b.c")).await?;
        for (silo, email) in [(one.id, "a@b.c"), (two.id, "A@B.C "), (two.id, "a@b.c")] {
            let err = store.create_owner(new_owner(silo, email)).await.expect_err("duplicate");
            assert!(matches!(err, StoreError::Conflict(_)), "{email}: {err:?}");
        }
        assert_eq!(count_rows(&store, Table::Owners).await?, 1);
        Ok(())
    }

    async fn owner_values_are_checked(store) {
        let silo = store.create_silo("s").await?;
        for email in ["", "   "] {
            let err = store.create_owner(new_owner(silo.id, email)).await.expect_err("empty");
            assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
        }
        let err = store
            .create_owner(NewOwner { password: PasswordHash::from_phc(""), ..new_owner(silo.id, "a@b.c") })
            .await
            .expect_err("no hash");
        assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
        let err = store
            .create_owner(new_owner(SiloId(silo.id.0 + 1000), "a@b.c"))
            .await
            .expect_err("no such silo");
        assert!(matches!(err, StoreError::NotFound(_)), "{err:?}");
        assert_eq!(count_rows(&store, Table::Owners).await?, 0);
        Ok(())
    }

    async fn passwords_and_session_epochs(store) {
        let silo = store.create_silo("s").await?;
        let owner = store.create_owner(new_owner(silo.id, "a@b.c")).await?;

        assert_eq!(store.end_owner_sessions(owner.id, T0 + 5).await?, 1);
        assert_eq!(store.end_owner_sessions(owner.id, T0 + 6).await?, 2);
        let reloaded = store.find_owner(owner.id).await?.ok_or("owner gone")?;
        assert_eq!((reloaded.session_epoch, reloaded.updated), (2, T0 + 6));
        assert_eq!(reloaded.password, hash("first"));

        store.set_owner_password(owner.id, &hash("second"), T0 + 10).await?;
        let reloaded = store.find_owner(owner.id).await?.ok_or("owner gone")?;
        assert_eq!(reloaded.password, hash("second"));
        assert_eq!(reloaded.session_epoch, 3, "a new password ends every session");
        assert_eq!((reloaded.created, reloaded.updated), (T0, T0 + 10));

        let missing = OwnerId(owner.id.0 + 1000);
        assert!(matches!(
            store.set_owner_password(missing, &hash("x"), T0).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.end_owner_sessions(missing, T0).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            store.set_owner_password(owner.id, &PasswordHash::from_phc(""), T0).await,
            Err(StoreError::Invalid(_))
        ));
        Ok(())
    }

    async fn owners_are_deleted_alone_or_with_their_silo(store) {
        let one = store.create_silo("one").await?;
        let two = store.create_silo("two").await?;
        let a = store.create_owner(new_owner(one.id, "a@b.c")).await?;
        store.create_owner(new_owner(one.id, "b@b.c")).await?;
        let c = store.create_owner(new_owner(two.id, "c@b.c")).await?;
        assert!(store.delete_owner(a.id).await?);
        assert!(!store.delete_owner(a.id).await?);
        assert_eq!(store.find_owner(a.id).await?, None);
        assert_eq!(count_rows(&store, Table::Owners).await?, 2);
        // The email is free again.
        store.create_owner(new_owner(two.id, "a@b.c")).await?;
        assert!(store.delete_silo(one.id).await?);
        assert_eq!(count_rows(&store, Table::Owners).await?, 2);
        assert!(store.find_owner(c.id).await?.is_some());
        assert_eq!(store.find_owner_by_email("b@b.c").await?, None);
        Ok(())
    }

    async fn silos_by_id(store) {
        let silo = store.create_silo("by-id").await?;
        assert_eq!(store.find_silo(silo.id).await?, Some(silo.clone()));
        assert_eq!(store.find_silo(SiloId(silo.id.0 + 1000)).await?, None);
        Ok(())
    }

    async fn consumer_usage_counts_what_a_delete_takes(store) {
        let silo = store.create_silo("usage").await?;
        let mut consumers = Vec::new();
        for key in ["k1", "k2"] {
            consumers.push(
                store
                    .create_consumer(NewConsumer {
                        silo: silo.id,
                        handle: key.to_owned(),
                        key: key.to_owned(),
                        secret: SealedSecret::from_cipher_text("0:eA=="),
                        now: T0,
                    })
                    .await?,
            );
        }
        let (k1, k2) = (consumers[0].id, consumers[1].id);
        let empty = store.consumer_usage(k1).await?;
        assert_eq!(
            (empty.consumer, empty.contexts, empty.resources, empty.users, empty.visits),
            (k1, 0, 0, 0, 0)
        );
        for (session, link, user) in [("s1", "r1", "u1"), ("s2", "r1", "u2"), ("s3", "r2", "u1")] {
            store
                .record_launch(LaunchRecord {
                    consumer: k1,
                    context: Some(ContextData { context_id: "c".into(), ..ContextData::default() }),
                    resource: ResourceData { link_id: link.into(), ..ResourceData::default() },
                    user: Some(UserData { user_id: user.into(), ..UserData::default() }),
                    session: session.into(),
                    new_session: false,
                    permissions: Permissions::READ,
                    user_agent: None,
                    parameters: vec![],
                    now: T0,
                })
                .await?;
        }
        let used = store.consumer_usage(k1).await?;
        assert_eq!((used.contexts, used.resources, used.users, used.visits), (1, 2, 2, 3));
        let other = store.consumer_usage(k2).await?;
        assert_eq!((other.contexts, other.resources, other.users, other.visits), (0, 0, 0, 0));
        assert!(store.delete_consumer(k1).await?);
        assert_eq!(count_rows(&store, Table::Visits).await?, 0);
        Ok(())
    }
}
