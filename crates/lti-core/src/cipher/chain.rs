//! The rotation chain: records of older keys, loading and rotating.

use std::collections::{BTreeMap, BTreeSet};

use core::fmt;

use super::app::ChainKey;
use super::keys::{DerivedKeys, Sealed, parse_ciphertext};
use super::{AppCipher, AppSecret, CipherError, KeyChainError};

/// The most older keys a chain may hold (Pyslet's `MAX_AGE`, spec §8.5).
/// [`AppCipher::from_chain`] refuses longer chains and
/// [`AppCipher::rotate`] retires keys that would go deeper. It also bounds
/// how far a key number must not repeat.
pub const MAX_CHAIN_DEPTH: usize = 100;

/// The stored record of an older application key (a row of `app_keys`).
///
/// `wrapped` is the old key's secret encrypted under the key that replaced
/// it, in the usual text form — so its `<keynum>:` prefix names the
/// successor — but with associated data of its own, so it can never be
/// decrypted as ordinary data. `switch_over` is when the successor took (or
/// takes) over encryption and signing, in unix seconds.
#[derive(Clone, PartialEq, Eq)]
pub struct AppKeyRecord {
    /// The number of the old key.
    pub keynum: u32,
    /// `<successor keynum>:<base64(nonce ‖ wrapped secret ‖ tag)>`.
    pub wrapped: String,
    /// When the successor takes over writing, in unix seconds.
    pub switch_over: i64,
}

impl AppKeyRecord {
    /// The number of the key that replaced this one, read from `wrapped`.
    ///
    /// # Errors
    /// [`CipherError::Malformed`] when `wrapped` is not in the text form.
    pub fn successor(&self) -> Result<u32, CipherError> {
        Ok(parse_ciphertext(&self.wrapped)?.0)
    }
}

impl fmt::Debug for AppKeyRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AppKeyRecord")
            .field("keynum", &self.keynum)
            .field("successor", &self.successor().ok())
            .field("switch_over", &self.switch_over)
            .finish_non_exhaustive()
    }
}

/// The outcome of [`AppCipher::rotate`].
#[derive(Debug)]
#[non_exhaustive]
pub struct KeyRotation {
    /// The cipher with the new key as current and the old one pending until
    /// the switch-over.
    pub cipher: AppCipher,
    /// The record to store for the outgoing key.
    pub record: AppKeyRecord,
    /// Keys that fell off the end of the chain (more than
    /// [`MAX_CHAIN_DEPTH`] rotations old): delete their records in the same
    /// transaction that inserts `record`, or the next start fails with
    /// [`KeyChainError::TooDeep`].
    pub retired: Vec<u32>,
}

impl AppCipher {
    /// Rebuilds the cipher at start-up from the configured current key and
    /// the stored records of older keys.
    ///
    /// Starting from the current key, the record wrapped under it is the key
    /// it replaced, the record wrapped under that one the key before, and so
    /// on. A pending rotation survives restarts: the switch-over times come
    /// from the records, so until the newest record's switch-over the older
    /// key keeps writing.
    ///
    /// ```
    /// use lti_core::{AppCipher, AppSecret};
    ///
    /// // Once, by the rotate command: key 2 replaces key 1 at `switch_over`.
    /// let switch_over = 1_700_003_600;
    /// let old = AppCipher::new(1, AppSecret::new("the old application secret")?);
    /// let rotation = old.rotate(2, AppSecret::new("the new application secret")?, switch_over)?;
    /// let stored = vec![rotation.record]; // a row of app_keys
    ///
    /// // Every instance, at start-up, configured with key 2:
    /// let secret = AppSecret::new("the new application secret")?;
    /// let cipher = AppCipher::from_chain(2, secret, &stored)?;
    /// assert_eq!(cipher.write_keynum(switch_over - 1), 1); // still pending
    /// assert_eq!(cipher.write_keynum(switch_over), 2);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// Fails on anything inconsistent rather than skip it, so a broken chain
    /// is found at start-up instead of when some old ciphertext turns out to
    /// be unreadable: [`KeyChainError::DuplicateKeyNumber`],
    /// [`KeyChainError::CurrentKeySuperseded`] (stale configuration),
    /// [`KeyChainError::Fork`], [`KeyChainError::Loop`],
    /// [`KeyChainError::TooDeep`], [`KeyChainError::Unreachable`],
    /// [`KeyChainError::UnwrapFailed`], [`KeyChainError::BadSecret`].
    pub fn from_chain(
        current_keynum: u32,
        current_secret: AppSecret,
        records: &[AppKeyRecord],
    ) -> Result<Self, KeyChainError> {
        // Index the records: by key number, and by successor.
        let mut by_keynum: BTreeMap<u32, (&AppKeyRecord, u32)> = BTreeMap::new();
        let mut by_successor: BTreeMap<u32, u32> = BTreeMap::new();
        for record in records {
            let keynum = record.keynum;
            let successor = record
                .successor()
                .map_err(|source| KeyChainError::UnwrapFailed { keynum, source })?;
            if successor == keynum {
                return Err(KeyChainError::Loop(keynum));
            }
            if keynum == current_keynum {
                return Err(KeyChainError::CurrentKeySuperseded { keynum, successor });
            }
            if by_keynum.insert(keynum, (record, successor)).is_some() {
                return Err(KeyChainError::DuplicateKeyNumber(keynum));
            }
            if let Some(first) = by_successor.insert(successor, keynum) {
                return Err(KeyChainError::Fork {
                    successor,
                    first: first.min(keynum),
                    second: first.max(keynum),
                });
            }
        }

        // Walk back from the current key. Key numbers are unique, the current
        // key is no record and no successor has two records, so this path
        // cannot revisit a key; loops can only hide among unreachable records.
        let mut cipher = Self::new(current_keynum, current_secret);
        while let Some(&keynum) = by_successor.get(&cipher.oldest().keynum) {
            if cipher.chain.len() > MAX_CHAIN_DEPTH {
                return Err(KeyChainError::TooDeep { keynum });
            }
            let (record, successor) = *by_keynum
                .get(&keynum)
                .expect("by_successor only holds indexed records");
            let unwrap_failed = |source| KeyChainError::UnwrapFailed { keynum, source };
            let (_, blob) = parse_ciphertext(&record.wrapped)
                .map_err(|e| unwrap_failed(CipherError::from(e)))?;
            let secret = cipher
                .oldest()
                .keys
                .open(successor, Sealed::KeyWrap, &keynum.to_be_bytes(), &blob)
                .map_err(unwrap_failed)?;
            let secret = AppSecret::try_from(secret)
                .map_err(|source| KeyChainError::BadSecret { keynum, source })?;
            cipher.chain.push(ChainKey {
                keynum,
                keys: DerivedKeys::derive(&secret),
                switch_over: Some(record.switch_over),
            });
        }

        if cipher.chain.len() <= by_keynum.len() {
            let reached: BTreeSet<u32> = cipher.keynums().collect();
            let unreached: Vec<u32> = by_keynum
                .keys()
                .copied()
                .filter(|keynum| !reached.contains(keynum))
                .collect();
            if let Some(keynum) = find_loop(&unreached, &by_keynum) {
                return Err(KeyChainError::Loop(keynum));
            }
            return Err(KeyChainError::Unreachable(unreached));
        }
        Ok(cipher)
    }

    /// Replaces the current key with `new_secret` under `new_keynum`; the
    /// current key keeps encrypting and signing until `switch_over` (unix
    /// seconds), so every instance can be restarted with the new key first.
    ///
    /// Returns the new cipher, the record to store for the outgoing key
    /// (its secret wrapped under the new key) and any keys that fell off the
    /// end of the chain. `self` is left as it was.
    ///
    /// # Errors
    /// [`KeyChainError::DuplicateKeyNumber`] if `new_keynum` is already in
    /// the chain; [`KeyChainError::Wrap`] if the OS random number generator
    /// fails.
    pub fn rotate(
        &self,
        new_keynum: u32,
        new_secret: AppSecret,
        switch_over: i64,
    ) -> Result<KeyRotation, KeyChainError> {
        if self.keynums().any(|keynum| keynum == new_keynum) {
            return Err(KeyChainError::DuplicateKeyNumber(new_keynum));
        }
        let outgoing = self.current_keynum();
        let mut cipher = Self::new(new_keynum, new_secret);
        let wrapped = cipher.chain[0]
            .keys
            .seal(
                new_keynum,
                Sealed::KeyWrap,
                &outgoing.to_be_bytes(),
                self.secret.expose(),
            )
            .map_err(KeyChainError::Wrap)?;
        cipher.chain.extend(self.chain.iter().cloned());
        cipher.chain[1].switch_over = Some(switch_over);
        cipher.retired.clone_from(&self.retired);
        let mut retired = Vec::new();
        while cipher.chain.len() > MAX_CHAIN_DEPTH + 1 {
            if let Some(key) = cipher.chain.pop() {
                retired.push(key.keynum);
            }
        }
        cipher.retired.extend_from_slice(&retired);
        Ok(KeyRotation {
            cipher,
            record: AppKeyRecord {
                keynum: outgoing,
                wrapped,
                switch_over,
            },
            retired,
        })
    }

    fn oldest(&self) -> &ChainKey {
        self.chain
            .last()
            .expect("a cipher's chain always holds its current key")
    }
}

/// A key on a cycle of successors among the unreached records, if any.
fn find_loop(unreached: &[u32], by_keynum: &BTreeMap<u32, (&AppKeyRecord, u32)>) -> Option<u32> {
    unreached.iter().find_map(|&start| {
        let mut seen = BTreeSet::new();
        let mut keynum = start;
        // Each step moves to another record; leaving the records ends the walk.
        while seen.insert(keynum) {
            keynum = by_keynum.get(&keynum)?.1;
        }
        Some(keynum)
    })
}
