//! Application cipher: key rotation, switch-over and rebuilding the chain.

use lti_core::{
    AppCipher, AppKeyRecord, AppSecret, CipherError, KeyChainError, MAX_CHAIN_DEPTH, MacPurpose,
};

type TestResult = Result<(), Box<dyn std::error::Error>>;

const T0: i64 = 1_700_000_000;
const HOUR: i64 = 3600;

/// A distinct, valid secret per key number.
fn secret(keynum: u32) -> AppSecret {
    AppSecret::new(format!("application secret number {keynum:>6}"))
        .expect("test secrets are long enough")
}

fn keynum_of(text: &str) -> &str {
    text.split_once(':').map_or("", |(keynum, _)| keynum)
}

/// Rotates `cipher` to `keynum` with switch-over `at`, collecting the record.
fn rotate(cipher: &AppCipher, keynum: u32, at: i64, records: &mut Vec<AppKeyRecord>) -> AppCipher {
    let rotation = cipher
        .rotate(keynum, secret(keynum), at)
        .expect("rotation works");
    assert!(rotation.retired.is_empty());
    records.push(rotation.record);
    rotation.cipher
}

#[test]
fn data_under_key_1_decrypts_after_rotating_to_2_and_3() -> TestResult {
    let mut records = Vec::new();
    let c1 = AppCipher::new(1, secret(1));
    let under_1 = c1.encrypt_str("one", T0)?;
    let c2 = rotate(&c1, 2, T0 + HOUR, &mut records);
    let under_2 = c2.encrypt_str("two", T0 + HOUR)?;
    let c3 = rotate(&c2, 3, T0 + 2 * HOUR, &mut records);
    let under_3 = c3.encrypt_str("three", T0 + 2 * HOUR)?;
    assert_eq!(
        [
            keynum_of(&under_1),
            keynum_of(&under_2),
            keynum_of(&under_3)
        ],
        ["1", "2", "3"]
    );
    assert_eq!(c3.keynums().collect::<Vec<_>>(), [3, 2, 1]);
    assert_eq!(c3.current_keynum(), 3);
    for cipher in [&c3, &AppCipher::from_chain(3, secret(3), &records)?] {
        assert_eq!(cipher.decrypt_str(&under_1)?, "one");
        assert_eq!(cipher.decrypt_str(&under_2)?, "two");
        assert_eq!(cipher.decrypt_str(&under_3)?, "three");
    }
    // The records: key n wrapped under key n + 1, with its switch-over.
    assert_eq!(records[0].keynum, 1);
    assert_eq!(records[0].successor()?, 2);
    assert_eq!(records[0].switch_over, T0 + HOUR);
    assert_eq!(records[1].keynum, 2);
    assert_eq!(records[1].successor()?, 3);
    // A wrapped key is not ordinary data.
    assert_eq!(
        c3.decrypt(&records[0].wrapped),
        Err(CipherError::AuthenticationFailed(2))
    );
    Ok(())
}

#[test]
fn the_old_key_writes_until_the_switch_over_and_the_new_one_after() -> TestResult {
    let old = AppCipher::new(1, secret(1));
    let switch_over = T0 + HOUR;
    let rotation = old.rotate(2, secret(2), switch_over)?;
    let new = rotation.cipher;
    assert_eq!(new.current_keynum(), 2);
    for (now, expected) in [
        (T0, 1),
        (switch_over - 1, 1),
        (switch_over, 2),
        (switch_over + 1, 2),
        (i64::MAX, 2),
        (i64::MIN, 1),
    ] {
        assert_eq!(new.write_keynum(now), expected, "at {now}");
        assert_eq!(keynum_of(&new.encrypt(b"x", now)?), expected.to_string());
        assert_eq!(
            new.sign(MacPurpose::SessionCookie, b"x", now).keynum(),
            expected
        );
    }
    assert_eq!(new.pending_switch_over(T0), Some(switch_over));
    assert_eq!(new.pending_switch_over(switch_over), None);
    // An instance not yet restarted (still on key 1) reads what restarted
    // instances write before the switch-over.
    let written = new.encrypt_str("shared", switch_over - 1)?;
    assert_eq!(old.decrypt_str(&written)?, "shared");
    let tag = new.sign(MacPurpose::Csrf, b"sid", switch_over - 1);
    assert!(old.verify(MacPurpose::Csrf, b"sid", &tag));
    // The rotation leaves the original cipher untouched.
    assert_eq!(old.keynums().collect::<Vec<_>>(), [1]);
    Ok(())
}

#[test]
fn a_switch_over_in_the_past_takes_effect_at_once() -> TestResult {
    let new = AppCipher::new(1, secret(1))
        .rotate(2, secret(2), T0 - 1)?
        .cipher;
    assert_eq!(new.write_keynum(T0), 2);
    assert_eq!(new.pending_switch_over(T0), None);
    Ok(())
}

#[test]
fn two_pending_rotations_switch_in_turn() -> TestResult {
    let mut records = Vec::new();
    let c = AppCipher::new(1, secret(1));
    let c = rotate(&c, 2, T0 + HOUR, &mut records);
    let c = rotate(&c, 3, T0 + 2 * HOUR, &mut records);
    let rebuilt = AppCipher::from_chain(3, secret(3), &records)?;
    for cipher in [&c, &rebuilt] {
        assert_eq!(cipher.write_keynum(T0), 1);
        assert_eq!(cipher.write_keynum(T0 + HOUR), 2);
        assert_eq!(cipher.write_keynum(T0 + 2 * HOUR), 3);
        assert_eq!(cipher.pending_switch_over(T0), Some(T0 + HOUR));
        assert_eq!(cipher.pending_switch_over(T0 + HOUR), Some(T0 + 2 * HOUR));
    }
    Ok(())
}

/// Asserts that two ciphers behave the same: keys, write keys over time,
/// and each reads what the other writes.
fn assert_same_behaviour(a: &AppCipher, b: &AppCipher, times: &[i64]) -> TestResult {
    assert_eq!(
        a.keynums().collect::<Vec<_>>(),
        b.keynums().collect::<Vec<_>>()
    );
    assert_eq!(a.current_keynum(), b.current_keynum());
    for &now in times {
        assert_eq!(a.write_keynum(now), b.write_keynum(now), "at {now}");
        assert_eq!(a.pending_switch_over(now), b.pending_switch_over(now));
        for (writer, reader) in [(a, b), (b, a)] {
            let text = writer.encrypt_bound(b"payload", b"row", now)?;
            assert_eq!(reader.decrypt_bound(&text, b"row")?, b"payload");
            for purpose in [MacPurpose::SessionCookie, MacPurpose::Csrf] {
                let tag = writer.sign(purpose, b"msg", now);
                assert!(reader.verify(purpose, b"msg", &tag));
            }
        }
    }
    Ok(())
}

#[test]
fn from_chain_rebuilds_an_equivalent_cipher() -> TestResult {
    let mut records = Vec::new();
    let mut cipher = AppCipher::new(10, secret(10));
    for (keynum, at) in [(11, T0), (12, T0 + HOUR), (20, T0 + 2 * HOUR)] {
        cipher = rotate(&cipher, keynum, at, &mut records);
    }
    let times = [T0 - 1, T0, T0 + HOUR, T0 + 2 * HOUR - 1, T0 + 2 * HOUR];
    // Record order does not matter.
    records.reverse();
    let rebuilt = AppCipher::from_chain(20, secret(20), &records)?;
    assert_same_behaviour(&cipher, &rebuilt, &times)?;
    // And every key of the chain reads data written in its time.
    let early = AppCipher::new(10, secret(10)).encrypt(b"early", T0)?;
    assert_eq!(rebuilt.decrypt(&early)?, b"early");
    Ok(())
}

#[test]
fn a_pending_rotation_survives_a_restart() -> TestResult {
    let switch_over = T0 + HOUR;
    let rotation = AppCipher::new(1, secret(1)).rotate(2, secret(2), switch_over)?;
    // Every instance restarts with key 2 configured and the stored record.
    let restarted = AppCipher::from_chain(2, secret(2), std::slice::from_ref(&rotation.record))?;
    assert_eq!(restarted.current_keynum(), 2);
    assert_eq!(restarted.write_keynum(T0), 1);
    assert_eq!(keynum_of(&restarted.encrypt(b"x", switch_over - 1)?), "1");
    assert_eq!(restarted.sign(MacPurpose::Csrf, b"x", T0).keynum(), 1);
    assert_eq!(keynum_of(&restarted.encrypt(b"x", switch_over)?), "2");
    assert_eq!(restarted.pending_switch_over(T0), Some(switch_over));
    assert_same_behaviour(&rotation.cipher, &restarted, &[T0, switch_over])?;
    Ok(())
}

#[test]
fn no_records_is_a_single_key_cipher() -> TestResult {
    let cipher = AppCipher::from_chain(5, secret(5), &[])?;
    assert_same_behaviour(&cipher, &AppCipher::new(5, secret(5)), &[T0])?;
    Ok(())
}

#[test]
fn rotating_to_a_key_number_in_the_chain_is_refused() -> TestResult {
    let mut records = Vec::new();
    let c = AppCipher::new(1, secret(1));
    let c = rotate(&c, 2, T0, &mut records);
    for keynum in [1, 2] {
        assert_eq!(
            c.rotate(keynum, secret(9), T0).map(|_| ()),
            Err(KeyChainError::DuplicateKeyNumber(keynum))
        );
    }
    Ok(())
}

#[test]
fn a_wrong_current_secret_is_caught_at_start() -> TestResult {
    let rotation = AppCipher::new(1, secret(1)).rotate(2, secret(2), T0)?;
    assert_eq!(
        AppCipher::from_chain(2, secret(99), &[rotation.record]).map(|_| ()),
        Err(KeyChainError::UnwrapFailed {
            keynum: 1,
            source: CipherError::AuthenticationFailed(2),
        })
    );
    Ok(())
}

#[test]
fn a_stale_configuration_is_reported() -> TestResult {
    let rotation = AppCipher::new(1, secret(1)).rotate(2, secret(2), T0)?;
    // An instance restarted with the old key after the record was stored.
    assert_eq!(
        AppCipher::from_chain(1, secret(1), &[rotation.record]).map(|_| ()),
        Err(KeyChainError::CurrentKeySuperseded {
            keynum: 1,
            successor: 2
        })
    );
    Ok(())
}

#[test]
fn duplicate_key_numbers_are_rejected() -> TestResult {
    let c1 = AppCipher::new(1, secret(1));
    let first = c1.rotate(2, secret(2), T0)?.record;
    let second = c1.rotate(2, secret(2), T0 + 1)?.record;
    assert_eq!(
        AppCipher::from_chain(2, secret(2), &[first, second]).map(|_| ()),
        Err(KeyChainError::DuplicateKeyNumber(1))
    );
    Ok(())
}

#[test]
fn forks_are_rejected() -> TestResult {
    let a = AppCipher::new(1, secret(1))
        .rotate(3, secret(3), T0)?
        .record;
    let b = AppCipher::new(2, secret(2))
        .rotate(3, secret(3), T0)?
        .record;
    assert_eq!(
        AppCipher::from_chain(3, secret(3), &[b, a]).map(|_| ()),
        Err(KeyChainError::Fork {
            successor: 3,
            first: 1,
            second: 2
        })
    );
    Ok(())
}

#[test]
fn loops_are_rejected() -> TestResult {
    // 1 → 2 → 3 → 1, none reachable from the current key 4.
    let r1 = AppCipher::new(1, secret(1))
        .rotate(2, secret(2), T0)?
        .record;
    let r2 = AppCipher::new(2, secret(2))
        .rotate(3, secret(3), T0)?
        .record;
    let r3 = AppCipher::new(3, secret(3))
        .rotate(1, secret(1), T0)?
        .record;
    let result = AppCipher::from_chain(4, secret(4), &[r1.clone(), r2.clone(), r3.clone()]);
    assert!(
        matches!(result, Err(KeyChainError::Loop(1..=3))),
        "{result:?}"
    );
    // A loop hanging off the real chain: 5 is current, 4 → 5 is fine, but
    // 1 → 2 → 3 → 1 still loops.
    let r4 = AppCipher::new(4, secret(4))
        .rotate(5, secret(5), T0)?
        .record;
    let result = AppCipher::from_chain(5, secret(5), &[r4, r1.clone(), r2, r3]);
    assert!(
        matches!(result, Err(KeyChainError::Loop(1..=3))),
        "{result:?}"
    );
    // A two-key loop.
    let back = AppCipher::new(2, secret(2))
        .rotate(1, secret(1), T0)?
        .record;
    let result = AppCipher::from_chain(7, secret(7), &[r1.clone(), back]);
    assert!(
        matches!(result, Err(KeyChainError::Loop(1 | 2))),
        "{result:?}"
    );
    // A record claiming to be its own successor.
    let selfish = AppKeyRecord { keynum: 2, ..r1 };
    assert_eq!(
        AppCipher::from_chain(7, secret(7), &[selfish]).map(|_| ()),
        Err(KeyChainError::Loop(2))
    );
    Ok(())
}

#[test]
fn unreachable_records_are_rejected() -> TestResult {
    let mut records = Vec::new();
    let c = AppCipher::new(1, secret(1));
    rotate(&c, 2, T0, &mut records);
    // A record wrapped under key 8, which is not in the chain.
    records.push(
        AppCipher::new(7, secret(7))
            .rotate(8, secret(8), T0)?
            .record,
    );
    assert_eq!(
        AppCipher::from_chain(2, secret(2), &records).map(|_| ()),
        Err(KeyChainError::Unreachable(vec![7]))
    );
    Ok(())
}

#[test]
fn tampered_or_relabelled_records_are_rejected() -> TestResult {
    let record = AppCipher::new(1, secret(1))
        .rotate(2, secret(2), T0)?
        .record;
    // Relabelled: the wrapped key is bound to its own number.
    let relabelled = AppKeyRecord {
        keynum: 5,
        ..record.clone()
    };
    assert_eq!(
        AppCipher::from_chain(2, secret(2), &[relabelled]).map(|_| ()),
        Err(KeyChainError::UnwrapFailed {
            keynum: 5,
            source: CipherError::AuthenticationFailed(2)
        })
    );
    // Garbage in the wrapped column.
    let garbage = AppKeyRecord {
        wrapped: "not a ciphertext".to_owned(),
        ..record.clone()
    };
    assert!(matches!(
        AppCipher::from_chain(2, secret(2), &[garbage]),
        Err(KeyChainError::UnwrapFailed {
            keynum: 1,
            source: CipherError::Malformed(_)
        })
    ));
    // Ordinary data in the wrapped column, under the right key number.
    let data = AppKeyRecord {
        wrapped: AppCipher::new(2, secret(2)).encrypt(b"application secret number      1", T0)?,
        ..record
    };
    assert_eq!(
        AppCipher::from_chain(2, secret(2), &[data]).map(|_| ()),
        Err(KeyChainError::UnwrapFailed {
            keynum: 1,
            source: CipherError::AuthenticationFailed(2)
        })
    );
    Ok(())
}

#[test]
fn chains_deeper_than_the_maximum_are_rejected_and_rotation_retires_keys() -> TestResult {
    let depth = u32::try_from(MAX_CHAIN_DEPTH)?;
    let first = AppCipher::new(0, secret(0));
    let under_0 = first.encrypt_str("oldest", T0)?;
    let mut cipher = first;
    let mut records = Vec::new();
    for keynum in 1..=depth {
        cipher = rotate(&cipher, keynum, T0, &mut records);
    }
    // Exactly MAX_CHAIN_DEPTH older keys: fine, and the oldest still reads.
    let full = AppCipher::from_chain(depth, secret(depth), &records)?;
    assert_eq!(full.keynums().count(), MAX_CHAIN_DEPTH + 1);
    assert_eq!(full.decrypt_str(&under_0)?, "oldest");

    // One more rotation pushes key 0 out.
    let rotation = cipher.rotate(depth + 1, secret(depth + 1), T0)?;
    assert_eq!(rotation.retired, [0]);
    assert_eq!(rotation.cipher.keynums().count(), MAX_CHAIN_DEPTH + 1);
    assert_eq!(
        rotation.cipher.decrypt_str(&under_0),
        Err(CipherError::KeyTooOld(0))
    );
    records.push(rotation.record);

    // A store that forgot to delete record 0 makes the next start fail …
    assert_eq!(
        AppCipher::from_chain(depth + 1, secret(depth + 1), &records).map(|_| ()),
        Err(KeyChainError::TooDeep { keynum: 0 })
    );
    // … one that did starts, without key 0.
    records.retain(|record| record.keynum != 0);
    let restarted = AppCipher::from_chain(depth + 1, secret(depth + 1), &records)?;
    assert_eq!(
        restarted.decrypt_str(&under_0),
        Err(CipherError::UnknownKey(0))
    );
    assert_same_behaviour(&rotation.cipher, &restarted, &[T0])?;
    // Key 0 has left the chain, so its number may be used again.
    assert!(restarted.rotate(0, secret(1000), T0).is_ok());
    Ok(())
}
