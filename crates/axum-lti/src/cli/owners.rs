//! `owners …`: the admin console's accounts.
//!
//! Passwords come from `--password-file FILE`, else the
//! `LTI_OWNER_PASSWORD` environment variable, else a prompt without echo
//! when standard input is a terminal (twice, to catch typos). Never from
//! the command line itself, where other users could read it in the process
//! list.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use anyhow::{Context as _, bail};
use clap::Subcommand;
use lti_core::{NewOwner, OwnerRecord, StoreError, normalize_email};

use crate::admin::password::{MIN_PASSWORD_CHARS, check_password, hash_owner_password};
use crate::app::ToolProvider;

/// The environment variable that may hold an owner's password.
pub const OWNER_PASSWORD_ENV: &str = "LTI_OWNER_PASSWORD";

/// `owners …`
#[derive(Debug, Clone, Subcommand)]
#[non_exhaustive]
pub enum OwnerCommand {
    /// Create an owner: a login to the admin console (`--admin`) that
    /// manages one silo's consumers.
    Add {
        /// The silo the owner runs.
        #[arg(long)]
        silo: String,
        /// The owner's email address (the login name).
        #[arg(long)]
        email: String,
        /// A file holding the password (trailing newline ignored); else
        /// LTI_OWNER_PASSWORD, else a prompt.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// Set a new password for an owner; their admin sessions end.
    ResetPassword {
        /// The owner's email address.
        #[arg(long)]
        email: String,
        /// A file holding the password (trailing newline ignored); else
        /// LTI_OWNER_PASSWORD, else a prompt.
        #[arg(long, value_name = "FILE")]
        password_file: Option<PathBuf>,
    },
    /// List the owners of a silo (or of every silo).
    List {
        /// Only this silo.
        #[arg(long)]
        silo: Option<String>,
    },
    /// Delete an owner (the silo and its consumers stay).
    Remove {
        /// The owner's email address.
        #[arg(long)]
        email: String,
    },
}

/// Runs an `owners` command.
pub(crate) async fn run(tool: &ToolProvider, command: OwnerCommand) -> anyhow::Result<()> {
    let state = tool.state();
    let store = state.store();
    match command {
        OwnerCommand::Add {
            silo,
            email,
            password_file,
        } => {
            let email = checked_email(&email)?;
            let silo = store
                .find_silo_by_slug(&silo)
                .await?
                .with_context(|| format!("no silo {silo:?} (create it with `silos add {silo}`)"))?;
            let password = read_password(password_file.as_deref())?;
            let hash = hash_owner_password(&password).await?;
            let owner = store
                .create_owner(NewOwner {
                    silo: silo.id,
                    email: email.clone(),
                    password: hash,
                    now: state.now(),
                })
                .await
                .map_err(|err| match err {
                    StoreError::Conflict(_) => {
                        anyhow::anyhow!("an owner with the email {email:?} exists already")
                    }
                    other => other.into(),
                })?;
            println!(
                "Created owner {:?} of silo {:?}; they log in at {}",
                owner.email,
                silo.slug,
                state.root().join("admin/login")
            );
            if !state.settings().server.admin {
                println!("(The admin console is off: serve with --admin or set server.admin.)");
            }
        }
        OwnerCommand::ResetPassword {
            email,
            password_file,
        } => {
            let owner = owner_by_email(tool, &email).await?;
            let password = read_password(password_file.as_deref())?;
            let hash = hash_owner_password(&password).await?;
            store
                .set_owner_password(owner.id, &hash, state.now())
                .await?;
            println!(
                "New password set for {:?}; their admin sessions have ended.",
                owner.email
            );
        }
        OwnerCommand::List { silo } => {
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
                for owner in store.list_owners(silo.id).await? {
                    println!("{:<16} {}", silo.slug, owner.email);
                }
            }
        }
        OwnerCommand::Remove { email } => {
            let owner = owner_by_email(tool, &email).await?;
            if !store.delete_owner(owner.id).await? {
                bail!("owner {email:?} was already gone");
            }
            println!("Removed owner {:?}.", owner.email);
        }
    }
    Ok(())
}

async fn owner_by_email(tool: &ToolProvider, email: &str) -> anyhow::Result<OwnerRecord> {
    tool.state()
        .store()
        .find_owner_by_email(email)
        .await?
        .with_context(|| format!("no owner with the email {:?}", normalize_email(email)))
}

/// The email normalized, if it looks like an address.
fn checked_email(email: &str) -> anyhow::Result<String> {
    let email = normalize_email(email);
    let valid = email.len() <= 254
        && !email.chars().any(|c| c.is_whitespace() || c.is_control())
        && email
            .rsplit_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty());
    if !valid {
        bail!("{email:?} is not an email address");
    }
    Ok(email)
}

/// The password from the file, the environment or a prompt, checked.
fn read_password(file: Option<&Path>) -> anyhow::Result<String> {
    let password = if let Some(path) = file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the password file {}", path.display()))?;
        text.trim_end_matches(['\r', '\n']).to_owned()
    } else if let Some(password) = std::env::var(OWNER_PASSWORD_ENV)
        .ok()
        .filter(|p| !p.is_empty())
    {
        password
    } else if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password(format!(
            "Password (at least {MIN_PASSWORD_CHARS} characters): "
        ))?;
        check_password(&first)?;
        let again = rpassword::prompt_password("The same password again: ")?;
        if again != first {
            bail!("the two passwords differ; nothing was changed");
        }
        first
    } else {
        bail!(
            "no password: give --password-file FILE or set {OWNER_PASSWORD_ENV} (standard input \
             is not a terminal, so there is no prompt)"
        );
    };
    check_password(&password)?;
    Ok(password)
}

/// The owner `-m --create-silo` makes when the admin console is on, so a
/// throw-away in-memory tool can be administered at once: email
/// `owner@localhost`, a generated password printed once. Nothing of it
/// outlives the process.
pub(crate) async fn create_memory_owner(tool: &ToolProvider) -> anyhow::Result<()> {
    let state = tool.state();
    let store = state.store();
    let slug = &state.settings().silo.slug;
    let silo = store
        .find_silo_by_slug(slug)
        .await?
        .with_context(|| format!("no silo {slug:?}"))?;
    let password = lti_core::generate_key(128)?;
    let owner = store
        .create_owner(NewOwner {
            silo: silo.id,
            email: "owner@localhost".into(),
            password: hash_owner_password(&password).await?,
            now: state.now(),
        })
        .await?;
    println!(
        "Admin console: {} — log in as {} with password {password} (in-memory mode only)",
        state.root().join("admin/"),
        owner.email
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert_eq!(checked_email(" A@B.C ").ok().as_deref(), Some("a@b.c"));
        for bad in ["", "a", "@b", "a@", "a b@c.d"] {
            assert!(checked_email(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn password_files_lose_their_newline_and_are_checked() {
        let dir = std::env::temp_dir().join(format!(
            "axum-lti-owners-{}",
            lti_core::generate_key(64).unwrap_or_default()
        ));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        let good = dir.join("good");
        std::fs::write(&good, "a long enough password\n").expect("written");
        assert_eq!(
            read_password(Some(&good)).ok().as_deref(),
            Some("a long enough password")
        );
        let short = dir.join("short");
        std::fs::write(&short, "too short\n").expect("written");
        let err = read_password(Some(&short)).expect_err("too short");
        assert!(err.to_string().contains("at least 12 characters"), "{err}");
        let missing = dir.join("missing");
        assert!(read_password(Some(&missing)).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
