//! Clocks and the OAuth timestamp window (spec §5.2), random keys and
//! resource identifiers (spec §8.1, §6.3, §7).

use std::collections::HashSet;

use lti_core::{
    Clock, DEFAULT_KEY_BITS, DEFAULT_TIMESTAMP_WINDOW, FixedClock, IdGenerationError, ResourceId,
    ResourceIdError, TimestampError, check_timestamp, generate_key,
};
use proptest::prelude::*;

/// The server clock of the IMS launch in spec §13.1.
const NOW: i64 = 1_420_370_306;

fn check(timestamp: i64) -> Result<i64, TimestampError> {
    check_timestamp(&timestamp.to_string(), NOW, DEFAULT_TIMESTAMP_WINDOW)
}

// ---- clocks -------------------------------------------------------------

#[test]
fn fixed_clock_advances_and_shares_time() {
    let clock = FixedClock::new(NOW);
    let handed_out = clock.clone();
    assert_eq!(handed_out.now(), NOW);
    clock.advance(89 * 60 + 59);
    assert_eq!(handed_out.now(), NOW + 5399);
    clock.advance(-5399);
    assert_eq!(handed_out.now(), NOW);
    handed_out.set(42);
    assert_eq!(clock.now(), 42);
}

#[test]
fn clock_is_usable_as_a_trait_object() {
    let clock: std::sync::Arc<dyn Clock> = std::sync::Arc::new(FixedClock::new(NOW));
    assert_eq!(clock.now(), NOW);
}

// ---- timestamp window ---------------------------------------------------

#[test]
fn default_window_is_600_seconds() {
    assert_eq!(DEFAULT_TIMESTAMP_WINDOW, 600);
}

#[test]
fn window_edges() {
    assert_eq!(check(NOW), Ok(NOW));
    assert_eq!(check(NOW - 600), Ok(NOW - 600));
    assert_eq!(check(NOW + 600), Ok(NOW + 600));
    assert_eq!(
        check(NOW - 601),
        Err(TimestampError::TooOld {
            age_secs: 601,
            window_secs: 600
        })
    );
    assert_eq!(
        check(NOW + 601),
        Err(TimestampError::InFuture {
            ahead_secs: 601,
            window_secs: 600
        })
    );
    assert_eq!(check(NOW - 601).map_err(|e| e.skew_secs()), Err(Some(601)));
    assert_eq!(check(NOW + 601).map_err(|e| e.skew_secs()), Err(Some(-601)));
}

#[test]
fn configurable_window() {
    assert_eq!(check_timestamp("1420370006", NOW, 300), Ok(1_420_370_006));
    assert!(matches!(
        check_timestamp("1420370005", NOW, 300),
        Err(TimestampError::TooOld {
            age_secs: 301,
            window_secs: 300
        })
    ));
    assert_eq!(check_timestamp("1420370306", NOW, 0), Ok(NOW));
    assert!(check_timestamp("1420370307", NOW, 0).is_err());
}

#[test]
fn malformed_timestamps() {
    assert_eq!(check_timestamp("", NOW, 600), Err(TimestampError::Missing));
    for bad in [
        "+1420370306",
        "-1420370306",
        " 1420370306",
        "1420370306 ",
        "1420370306.5",
        "1e9",
        "0x54A9A3E2",
        "１４２０３７０３０６",
        "1420370306\n",
        "9999999999999",
        "00001420370306",
        "99999999999999999999999999999999",
    ] {
        assert_eq!(
            check_timestamp(bad, NOW, 600),
            Err(TimestampError::Malformed),
            "{bad:?}"
        );
    }
    // Twelve digits is the limit, and it parses (as far in the future).
    assert!(matches!(
        check_timestamp("999999999999", NOW, 600),
        Err(TimestampError::InFuture { .. })
    ));
    // Leading zeros within twelve digits are fine.
    assert!(matches!(
        check_timestamp("000000000001", NOW, 600),
        Err(TimestampError::TooOld { .. })
    ));
}

#[test]
fn timestamp_errors_explain_themselves() {
    let old = check(NOW - 3600).expect_err("old").to_string();
    assert!(old.contains("3600 seconds old"), "{old}");
    let future = check(NOW + 700).expect_err("future").to_string();
    assert!(future.contains("700 seconds in the future"), "{future}");
}

// ---- generate_key, spec §8.1 ---------------------------------------------

fn groups(key: &str) -> Vec<&str> {
    key.split('.').collect()
}

fn is_upper_hex_group(group: &str) -> bool {
    group.len() == 4
        && group
            .bytes()
            .all(|b| matches!(b, b'0'..=b'9' | b'A'..=b'F'))
}

#[test]
fn default_key_is_eight_groups_of_four() {
    let key = generate_key(DEFAULT_KEY_BITS).expect("rng");
    assert_eq!(key.len(), 39);
    let parts = groups(&key);
    assert_eq!(parts.len(), 8);
    assert!(parts.iter().all(|g| is_upper_hex_group(g)), "{key}");
}

#[test]
fn key_group_counts() {
    for (bits, count) in [
        (1, 1),
        (16, 1),
        (17, 2),
        (32, 2),
        (33, 3),
        (128, 8),
        (256, 16),
    ] {
        let key = generate_key(bits).expect("rng");
        assert_eq!(groups(&key).len(), count, "{bits} bits: {key}");
        assert_eq!(key.len(), count * 5 - 1);
    }
}

#[test]
fn zero_bits_is_an_error() {
    assert_eq!(
        generate_key(0),
        Err(IdGenerationError::InvalidKeyLength { bits: 0 })
    );
}

#[test]
fn keys_differ() {
    let keys: HashSet<String> = (0..100).map(|_| generate_key(128).expect("rng")).collect();
    assert_eq!(keys.len(), 100);
}

// ---- ResourceId ----------------------------------------------------------

#[test]
fn resource_id_display_pads_to_eight_digits() {
    let cases = [
        (0, "00000000"),
        (1, "00000001"),
        (0xABCDEF, "00ABCDEF"),
        (0xDEAD_BEEF, "DEADBEEF"),
        (0x1_0000_0000, "100000000"),
        (i64::MAX, "7FFFFFFFFFFFFFFF"),
    ];
    for (value, text) in cases {
        let id = ResourceId::new(value).expect("non-negative");
        assert_eq!(id.to_string(), text);
        assert_eq!(text.parse::<ResourceId>(), Ok(id));
        assert_eq!(text.to_ascii_lowercase().parse::<ResourceId>(), Ok(id));
        assert_eq!(i64::from(id), value);
    }
    assert_eq!("a".parse::<ResourceId>().map(ResourceId::get), Ok(10));
}

#[test]
fn resource_id_rejections() {
    let cases = [
        ("", ResourceIdError::Empty),
        ("-1", ResourceIdError::InvalidDigit),
        ("+1", ResourceIdError::InvalidDigit),
        ("0x1A", ResourceIdError::InvalidDigit),
        (" 1A", ResourceIdError::InvalidDigit),
        ("1A ", ResourceIdError::InvalidDigit),
        ("1A\n", ResourceIdError::InvalidDigit),
        ("G1", ResourceIdError::InvalidDigit),
        ("٣", ResourceIdError::InvalidDigit),
        ("8000000000000000", ResourceIdError::OutOfRange),
        ("FFFFFFFFFFFFFFFF", ResourceIdError::OutOfRange),
        ("00000000000000001", ResourceIdError::TooLong),
        ("123456789ABCDEF012345", ResourceIdError::TooLong),
    ];
    for (text, err) in cases {
        assert_eq!(text.parse::<ResourceId>(), Err(err), "{text:?}");
    }
    assert_eq!(ResourceId::new(-1), None);
}

#[test]
fn random_resource_ids_round_trip() {
    let ids: HashSet<ResourceId> = (0..100)
        .map(|_| ResourceId::random().expect("rng"))
        .collect();
    assert_eq!(ids.len(), 100);
    for id in ids {
        assert!(id.get() >= 0);
        assert!(id.to_string().len() >= 8);
        assert_eq!(id.to_string().parse::<ResourceId>(), Ok(id));
    }
}

proptest! {
    #[test]
    fn resource_id_parse_never_panics(text in any::<String>()) {
        let _ = text.parse::<ResourceId>();
    }

    #[test]
    fn resource_id_parse_never_panics_on_hexish_text(text in "[0-9a-fA-FxX+ -]{0,24}") {
        if let Ok(id) = text.parse::<ResourceId>() {
            prop_assert!(id.get() >= 0);
        }
    }

    #[test]
    fn resource_id_round_trips(value in 0..=i64::MAX) {
        let id = ResourceId::new(value).expect("non-negative");
        let text = id.to_string();
        prop_assert!(text.len() >= 8);
        prop_assert_eq!(text.parse::<ResourceId>(), Ok(id));
    }

    #[test]
    fn timestamp_check_never_panics(text in any::<String>(), now in any::<i64>(), window in any::<u32>()) {
        let _ = check_timestamp(&text, now, window);
    }

    #[test]
    fn timestamp_within_window_is_accepted(offset in -600i64..=600) {
        prop_assert_eq!(check(NOW + offset), Ok(NOW + offset));
    }
}
