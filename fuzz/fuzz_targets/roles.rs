//! The role parser of lti-core (`parse_roles`, `RoleList::parse`,
//! `parse_role`) and the context-type parser on any text: unknown or
//! malformed roles are ignored (QL-5), never a panic, and every role that
//! parses prints as text that parses to the same role.
#![no_main]

use libfuzzer_sys::fuzz_target;
use lti_core::{RoleList, parse_context_types, parse_role, parse_roles};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let list = RoleList::parse(text);
    // Every item is a role or ignored; repeated roles are kept once.
    assert!(list.len() + list.ignored().len() <= parse_roles(text).count());
    for (i, role) in list.iter().enumerate() {
        assert!(!list.roles()[..i].contains(role), "{role} twice");
    }
    for role in list.iter() {
        let printed = role.to_string();
        let again = parse_role(&printed).expect("a printed role parses");
        assert_eq!(&again, role, "{printed}");
    }
    for role in parse_roles(text).flatten() {
        assert!(list.contains(&role));
    }
    let printed = list.to_string();
    let again = RoleList::parse(&printed);
    assert_eq!(again.roles(), list.roles(), "a printed list parses back");
    let _ = parse_context_types(text);
});
