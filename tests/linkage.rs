//! Each function's binary links only its own handlers: its `main` builds its router from
//! its own table (`shared::api::functions::<name>`), so the linker drops every other
//! handler. This builds the function binaries (debug, with the features `cargo test`
//! already compiled, so only the binaries themselves are new) and looks in each for the
//! symbols of every handler of the API.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

use shared::api::{all_routes, Function};
use shared::AwsBackend;

/// `cargo build` of every target, as `cargo test --workspace` resolves features.
fn build_binaries() -> PathBuf {
    integration_tests::built(&["--workspace", "--all-targets"])
}

/// How rustc's legacy mangling spells a path: `shared::api::upload::upload_file` is
/// `6shared3api6upload11upload_file` inside every symbol of that function (and of its
/// future), whatever its type parameters.
fn mangled(path: &str) -> Vec<u8> {
    path.split("::")
        .map(|part| format!("{}{part}", part.len()))
        .collect::<String>()
        .into_bytes()
}

/// Every `shared::api::<module>::<name>` whose symbols a binary holds: one pass over
/// it, decoding the two length-prefixed names after each `6shared3api`.
fn api_functions_in(binary: &[u8]) -> BTreeSet<String> {
    let prefix = mangled("shared::api");
    let mut found = BTreeSet::new();
    let mut at = 0;
    while let Some(offset) = binary[at..]
        .iter()
        .position(|&b| b == prefix[0])
        .map(|i| at + i)
    {
        at = offset + 1;
        if !binary[offset..].starts_with(&prefix) {
            continue;
        }
        let mut cursor = offset + prefix.len();
        let mut names = Vec::new();
        for _ in 0..2 {
            let digits = binary[cursor..]
                .iter()
                .take_while(|b| b.is_ascii_digit())
                .count();
            let Some(len) = std::str::from_utf8(&binary[cursor..cursor + digits])
                .ok()
                .and_then(|d| d.parse::<usize>().ok())
            else {
                break;
            };
            let start = cursor + digits;
            let Some(name) = binary.get(start..start + len) else {
                break;
            };
            names.push(String::from_utf8_lossy(name).into_owned());
            cursor = start + len;
        }
        if let [module, name] = names.as_slice() {
            found.insert(format!("shared::api::{module}::{name}"));
        }
    }
    found
}

#[test]
fn each_function_binary_links_its_own_handlers_and_no_other() {
    let bin = build_binaries();
    let mut tables: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for (function, route) in all_routes::<AwsBackend>() {
        tables
            .entry(function.name())
            .or_default()
            .insert(route.handler_name);
    }
    let every: BTreeSet<&str> = tables.values().flatten().copied().collect();
    assert!(every.len() >= 30, "the handlers are named: {every:?}");
    let mut report = Vec::new();
    for function in Function::ALL {
        let name = function.name();
        let path = bin.join(name);
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let own = &tables[name];
        let linked_here = api_functions_in(&bytes);
        for handler in &every {
            let linked = linked_here.contains(*handler);
            if linked != own.contains(handler) {
                report.push(format!(
                    "{name}: {handler} {}",
                    if linked {
                        "is linked but not routed"
                    } else {
                        "is routed but not linked"
                    }
                ));
            }
        }
        println!("{name}: links {} handlers of {}", own.len(), every.len());
    }
    assert!(report.is_empty(), "{}", report.join("\n"));
}

#[test]
fn mangled_paths_are_read_as_rustc_spells_them() {
    assert_eq!(
        mangled("shared::api::upload::upload_file"),
        b"6shared3api6upload11upload_file".to_vec()
    );
    let binary = b"..._ZN6shared3api6upload11upload_file17h0123E\0_ZN6shared3api5share9sign_urls28_$u7b$$u7b$closure$u7d$$u7d$17hE\0 6shared3";
    assert_eq!(
        api_functions_in(binary),
        BTreeSet::from([
            "shared::api::share::sign_urls".to_owned(),
            "shared::api::upload::upload_file".to_owned()
        ])
    );
}
