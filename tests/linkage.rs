//! Each function's binary links only its own handlers: its `main` builds its router from
//! its own table (`shared::api::functions::<name>`), so the linker drops every other
//! handler. This builds the function binaries (debug, with the features `cargo test`
//! already compiled, so only the binaries themselves are new) and looks in each for the
//! symbols of every handler of the API.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use shared::api::{all_routes, Function};
use shared::AwsBackend;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `cargo build` of every target, as `cargo test --workspace` resolves features.
fn build_binaries() -> PathBuf {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = Command::new(cargo)
        .current_dir(root())
        .args(["build", "--workspace", "--all-targets", "--quiet"])
        .status()
        .expect("cargo runs");
    assert!(status.success(), "cargo build --workspace --all-targets");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("target"));
    target.join("debug")
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

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
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
        for handler in &every {
            let linked = contains(&bytes, &mangled(handler));
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
fn mangled_paths_are_spelt_as_rustc_spells_them() {
    assert_eq!(
        mangled("shared::api::upload::upload_file"),
        b"6shared3api6upload11upload_file".to_vec()
    );
}
