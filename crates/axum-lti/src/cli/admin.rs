//! Administration commands: silos, consumers, owners (in `owners.rs`), key
//! rotation, pruning and the tool configuration XML.

use anyhow::{Context as _, bail};
use clap::Subcommand;
use lti_core::{AppSecret, ConsumerRecord, NewConsumer, SealedSecret, StoreError};

use crate::app::ToolProvider;

/// Administration commands.
#[derive(Debug, Clone, Subcommand)]
#[non_exhaustive]
pub enum Command {
    /// Manage silos (tenants: each owns its consumers).
    #[command(subcommand)]
    Silos(SiloCommand),
    /// Manage consumers (LMS credentials).
    #[command(subcommand)]
    Consumers(ConsumerCommand),
    /// Manage owners (logins to the admin console, one silo each).
    #[command(subcommand)]
    Owners(super::owners::OwnerCommand),
    /// Manage the application key.
    #[command(subcommand)]
    Keys(KeyCommand),
    /// Delete expired nonces and detached visits past their retention.
    Prune,
    /// Print the tool configuration XML (cartridge_basiclti_link) to paste
    /// into an LMS.
    ConfigXml {
        /// The tool's title.
        #[arg(long, default_value = "LTI tool")]
        title: String,
        /// A one-line description.
        #[arg(long, default_value = "")]
        description: String,
    },
}

/// `silos …`
#[derive(Debug, Clone, Subcommand)]
#[non_exhaustive]
pub enum SiloCommand {
    /// Create a silo.
    Add {
        /// Its slug (unique short name).
        slug: String,
    },
    /// List silos.
    List,
}

/// `consumers …`
#[derive(Debug, Clone, Subcommand)]
#[non_exhaustive]
pub enum ConsumerCommand {
    /// Create a consumer; key and secret are generated when not given, and
    /// the secret is shown once.
    Add {
        /// The silo to create it in.
        #[arg(long, default_value = "testing")]
        silo: String,
        /// A human name.
        #[arg(long, default_value = "default")]
        handle: String,
        /// The consumer key (generated when absent).
        #[arg(long)]
        key: Option<String>,
        /// The consumer secret (generated when absent).
        #[arg(long)]
        secret: Option<String>,
    },
    /// List the consumers of a silo (or of every silo).
    List {
        /// Only this silo.
        #[arg(long)]
        silo: Option<String>,
    },
    /// Show one consumer (never its secret).
    Show {
        /// The consumer key.
        key: String,
    },
    /// Give a consumer a new secret (generated when not given; shown once).
    SetSecret {
        /// The consumer key.
        key: String,
        /// The new secret.
        #[arg(long)]
        secret: Option<String>,
    },
    /// Allow launches from a consumer.
    Enable {
        /// The consumer key.
        key: String,
    },
    /// Refuse launches from a consumer.
    Disable {
        /// The consumer key.
        key: String,
    },
    /// Delete a consumer and everything launched through it.
    Remove {
        /// The consumer key.
        key: String,
    },
}

/// `keys …`
#[derive(Debug, Clone, Subcommand)]
#[non_exhaustive]
pub enum KeyCommand {
    /// Start a rotation to a new application key: stores the current key
    /// sealed under the new one. Then give every instance the new key
    /// number and secret and restart it before the switch-over.
    Rotate {
        /// The new key's number (must not have been used before).
        #[arg(long)]
        keynum: u32,
        /// A file holding the new application secret.
        #[arg(long, value_name = "FILE")]
        secret_file: std::path::PathBuf,
        /// Seconds from now until the new key takes over writing.
        #[arg(long, default_value_t = 3600)]
        switch_over_secs: i64,
    },
}

/// Creates the silo and consumer of the `silo` settings (`--create-silo`).
pub(crate) async fn create_silo(tool: &ToolProvider) -> anyhow::Result<()> {
    let state = tool.state();
    let silo_settings = &state.settings().silo;
    let store = state.store();
    let silo = match store.find_silo_by_slug(&silo_settings.slug).await? {
        Some(silo) => silo,
        None => store.create_silo(&silo_settings.slug).await?,
    };
    let consumer = add_consumer(
        tool,
        silo.id,
        "default",
        &silo_settings.key,
        &silo_settings.secret,
    )
    .await
    .map_err(|err| match err.downcast_ref::<StoreError>() {
        Some(StoreError::Conflict(_)) => anyhow::anyhow!(
            "--create-silo: consumer key {:?} exists already in this database",
            silo_settings.key
        ),
        _ => err,
    })?;
    println!(
        "Created silo {:?} with consumer key {:?} (secret as in the silo settings).",
        silo.slug, consumer.key
    );
    Ok(())
}

fn generated(value: Option<String>) -> anyhow::Result<(String, bool)> {
    match value.filter(|v| !v.is_empty()) {
        Some(v) => Ok((v, false)),
        None => Ok((lti_core::generate_key(128)?, true)),
    }
}

fn seal(tool: &ToolProvider, secret: &str) -> anyhow::Result<SealedSecret> {
    let state = tool.state();
    let text = state.cipher().encrypt_str(secret, state.now())?;
    Ok(SealedSecret::from_cipher_text(text))
}

async fn add_consumer(
    tool: &ToolProvider,
    silo: lti_core::SiloId,
    handle: &str,
    key: &str,
    secret: &str,
) -> anyhow::Result<ConsumerRecord> {
    let state = tool.state();
    let consumer = state
        .store()
        .create_consumer(NewConsumer {
            silo,
            handle: handle.to_owned(),
            key: key.to_owned(),
            secret: seal(tool, secret)?,
            now: state.now(),
        })
        .await?;
    Ok(consumer)
}

async fn consumer_by_key(tool: &ToolProvider, key: &str) -> anyhow::Result<ConsumerRecord> {
    tool.state()
        .store()
        .find_consumer_by_key(key)
        .await?
        .with_context(|| format!("no consumer with key {key:?}"))
}

fn describe(consumer: &ConsumerRecord) -> String {
    format!(
        "{:<40} {:<20} {}",
        consumer.key,
        consumer.handle,
        if consumer.enabled {
            "enabled"
        } else {
            "disabled"
        }
    )
}

/// Runs an administration command.
pub(crate) async fn run(tool: &ToolProvider, command: Command) -> anyhow::Result<()> {
    let state = tool.state();
    let store = state.store();
    match command {
        Command::Silos(SiloCommand::Add { slug }) => {
            let silo = store.create_silo(&slug).await?;
            println!("Created silo {:?}.", silo.slug);
        }
        Command::Silos(SiloCommand::List) => {
            for silo in store.list_silos().await? {
                println!("{}", silo.slug);
            }
        }
        Command::Consumers(command) => consumers(tool, command).await?,
        Command::Owners(command) => super::owners::run(tool, command).await?,
        Command::Keys(KeyCommand::Rotate {
            keynum,
            secret_file,
            switch_over_secs,
        }) => {
            let text = std::fs::read_to_string(&secret_file)
                .with_context(|| format!("cannot read {}", secret_file.display()))?;
            let secret = AppSecret::new(text.trim_end_matches(['\r', '\n']).as_bytes())?;
            let switch_over = state.now() + switch_over_secs.max(0);
            let rotation = state.cipher().rotate(keynum, secret, switch_over)?;
            let stored = store.save_app_key(&rotation.record).await?;
            println!(
                "Key {} is now sealed under key {keynum}; key {keynum} takes over at unix time {}.",
                stored.keynum, stored.switch_over
            );
            println!(
                "Now set keys.keynum = {keynum} and the new secret on every instance and restart them before then."
            );
        }
        Command::Prune => {
            let (nonces, visits) = prune(tool).await?;
            println!("Deleted {nonces} expired nonces and {visits} old detached visits.");
        }
        Command::ConfigXml { title, description } => {
            print!(
                "{}",
                crate::cartridge::cartridge_xml(&title, &description, state.root())
            );
        }
    }
    Ok(())
}

async fn consumers(tool: &ToolProvider, command: ConsumerCommand) -> anyhow::Result<()> {
    let state = tool.state();
    let store = state.store();
    match command {
        ConsumerCommand::Add {
            silo,
            handle,
            key,
            secret,
        } => {
            let silo = store
                .find_silo_by_slug(&silo)
                .await?
                .with_context(|| format!("no silo {silo:?} (create it with `silos add`)"))?;
            let (key, _) = generated(key)?;
            let (secret, made) = generated(secret)?;
            let consumer = add_consumer(tool, silo.id, &handle, &key, &secret)
                .await
                .map_err(|err| match err.downcast_ref::<StoreError>() {
                    Some(StoreError::Conflict(_)) => {
                        anyhow::anyhow!("a consumer with key {key:?} exists already")
                    }
                    _ => err,
                })?;
            println!(
                "Created consumer {:?} in silo {:?}.",
                consumer.key, silo.slug
            );
            if made {
                println!("Secret (shown once, keep it safe): {secret}");
            }
        }
        ConsumerCommand::List { silo } => {
            let silos = match silo {
                Some(slug) => vec![
                    store
                        .find_silo_by_slug(&slug)
                        .await?
                        .with_context(|| format!("no silo {slug:?}"))?,
                ],
                None => store.list_silos().await?,
            };
            for silo in silos {
                for consumer in store.list_consumers(silo.id).await? {
                    println!("{:<16} {}", silo.slug, describe(&consumer));
                }
            }
        }
        ConsumerCommand::Show { key } => {
            let consumer = consumer_by_key(tool, &key).await?;
            println!("key:     {}", consumer.key);
            println!("handle:  {}", consumer.handle);
            println!("enabled: {}", consumer.enabled);
            println!("created: {} (unix time)", consumer.created);
            println!("launch:  {}", state.root().join("launch"));
        }
        ConsumerCommand::SetSecret { key, secret } => {
            let consumer = consumer_by_key(tool, &key).await?;
            let (secret, made) = generated(secret)?;
            store
                .set_consumer_secret(consumer.id, &seal(tool, &secret)?)
                .await?;
            println!("New secret set for {key:?}.");
            if made {
                println!("Secret (shown once, keep it safe): {secret}");
            }
        }
        ConsumerCommand::Enable { ref key } | ConsumerCommand::Disable { ref key } => {
            let enable = matches!(command, ConsumerCommand::Enable { .. });
            let key = key.clone();
            let consumer = consumer_by_key(tool, &key).await?;
            store.set_consumer_enabled(consumer.id, enable).await?;
            println!(
                "Consumer {key:?} {}.",
                if enable { "enabled" } else { "disabled" }
            );
        }
        ConsumerCommand::Remove { key } => {
            let consumer = consumer_by_key(tool, &key).await?;
            if !store.delete_consumer(consumer.id).await? {
                bail!("consumer {key:?} was already gone");
            }
            println!("Removed consumer {key:?} and everything launched through it.");
        }
    }
    Ok(())
}

/// Deletes expired nonces and detached visits past their retention.
pub(crate) async fn prune(tool: &ToolProvider) -> anyhow::Result<(u64, u64)> {
    let state = tool.state();
    let now = state.now();
    let nonces = state.store().prune_nonces(now).await?;
    let retention = state.settings().maintenance.visit_retention_secs;
    let visits = state
        .store()
        .prune_detached_visits(now.saturating_sub(retention))
        .await?;
    Ok((nonces, visits))
}
