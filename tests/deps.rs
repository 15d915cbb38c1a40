//! The Lambda binaries are lean by construction: `cargo tree` shows what every function
//! compiles, for both Lambda architectures, and this holds it to one HTTP stack (hyper 1,
//! one rustls on ring), no OpenSSL or aws-lc, and the Lambda event types the functions need.
//!
//! The graph is at least the one `sam build` (BuildMethod rust-cargolambda) and `make
//! package` compile: `cargo lambda build --release --bin <function>` at the workspace root
//! resolves features over the workspace's default members (shared, the functions,
//! local-api), so this reads `cargo tree --workspace` (those and the tests and the bench)
//! and each function's subtree of it, not `cargo tree -p <function>`, which resolves the
//! function alone and can show fewer crates and features than get built.
//!
//! Only `cargo tree` runs (from the lockfile, nothing is compiled): about a second.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The two Lambda architectures (`Architecture` in template.yaml). `cargo tree` resolves
/// for a target without its standard library installed.
const TARGETS: [&str; 2] = ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"];

/// TLS and crypto crates a function must not link: OpenSSL (a C library from the system),
/// native-tls (OpenSSL on Linux) and aws-lc (a second crypto library and a C/CMake build;
/// rustls runs on ring here). Exact names: the pure-Rust `openssl-probe` (where
/// rustls-native-certs looks for certificates) is not OpenSSL.
const BANNED: [&str; 5] = [
    "openssl",
    "openssl-sys",
    "native-tls",
    "tokio-native-tls",
    "hyper-tls",
];
const BANNED_PREFIX: &str = "aws-lc-"; // aws-lc-rs, aws-lc-sys, aws-lc-fips-sys

/// The event types of aws_lambda_events each function handles (template.yaml's events);
/// none for the ingest function (its event is the service's own job) and the sweeper
/// (it reads the few fields of a stream record it needs itself).
const NEEDS: [(&str, Option<&str>); 13] = [
    ("delete", Some("apigw")),
    ("download", Some("apigw")),
    // The table's stream: the function's own serde types (`shared::events::stream`).
    ("events", None),
    ("expire", Some("s3")),
    ("get", Some("apigw")),
    ("ingest", None),
    ("preview", Some("apigw")),
    ("save", Some("apigw")),
    // GuardDuty's scan results: read as JSON values.
    ("scan", None),
    ("sweep", None),
    ("upload", Some("apigw")),
    ("verify-custom-url", Some("apigw")),
    ("webhooks", Some("sqs")),
];

/// Event types lambda_http 1.x always asks aws_lambda_events for, whatever its own features.
const LAMBDA_HTTP_ALWAYS: [&str; 3] = ["alb", "apigw", "vpc_lattice"];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The packages under functions/ (each builds one binary of the same name).
fn functions() -> BTreeSet<String> {
    std::fs::read_dir(root().join("functions"))
        .expect("functions/")
        .map(|entry| entry.expect("functions/ entry").path())
        .filter(|path| path.join("Cargo.toml").is_file())
        .map(|path| path.file_name().unwrap().to_string_lossy().into_owned())
        .collect()
}

/// `cargo tree --workspace` for `target`, one node a line with its depth in front.
fn cargo_tree(target: &str, args: &[&str]) -> Graph {
    cargo_tree_of(&["--workspace"], target, args)
}

/// `cargo tree` of the packages `selection` names (`--workspace`, or nothing: the
/// default members, what a build at the root without `-p` selects).
fn cargo_tree_of(selection: &[&str], target: &str, args: &[&str]) -> Graph {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(root())
        .arg("tree")
        .args(selection)
        .args(["--locked", "--target", target])
        .args(["--prefix", "depth", "--format", "{p}"])
        .args(args);
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{command:?} did not start: {e}"));
    assert!(
        output.status.success(),
        "{command:?} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Graph::parse(&String::from_utf8(output.stdout).expect("cargo tree prints UTF-8"))
}

/// A printed tree as a graph: every node (`name vX.Y.Z [(source)]`, or `name feature "f"`
/// with `-e features`) and the nodes printed under any of its occurrences. A node printed
/// again is marked `(*)` and its children left out; they were printed the first time.
#[derive(Default)]
struct Graph {
    roots: Vec<String>,
    children: BTreeMap<String, BTreeSet<String>>,
}

impl Graph {
    fn parse(text: &str) -> Graph {
        let mut graph = Graph::default();
        let mut path: Vec<String> = Vec::new();
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            let digits = line.find(|c: char| !c.is_ascii_digit()).unwrap_or(0);
            let depth: usize = line[..digits]
                .parse()
                .unwrap_or_else(|_| panic!("no depth in front of {line:?}"));
            let node = line[digits..].trim_end_matches(" (*)").to_string();
            assert!(
                depth <= path.len(),
                "depth {depth} under {path:?}: {line:?}"
            );
            path.truncate(depth);
            match path.last() {
                Some(parent) => {
                    graph
                        .children
                        .entry(parent.clone())
                        .or_default()
                        .insert(node.clone());
                }
                None => graph.roots.push(node.clone()),
            }
            graph.children.entry(node.clone()).or_default();
            path.push(node);
        }
        graph
    }

    fn root(&self, package: &str) -> &str {
        self.roots
            .iter()
            .find(|root| name(root) == package)
            .unwrap_or_else(|| panic!("{package} is not a root of {:?}", self.roots))
    }

    fn children(&self, node: &str) -> &BTreeSet<String> {
        self.children
            .get(node)
            .unwrap_or_else(|| panic!("{node} is not in the tree"))
    }

    /// Every node reachable from `from`, with the chain of nodes that leads to it.
    fn reachable(&self, from: &str) -> BTreeMap<String, Vec<String>> {
        let mut chains = BTreeMap::from([(from.to_string(), vec![from.to_string()])]);
        let mut queue = VecDeque::from([from.to_string()]);
        while let Some(node) = queue.pop_front() {
            for child in self.children(&node) {
                if !chains.contains_key(child) {
                    let mut chain = chains[&node].clone();
                    chain.push(child.clone());
                    chains.insert(child.clone(), chain);
                    queue.push_back(child.clone());
                }
            }
        }
        chains
    }
}

/// `name` of `name vX.Y.Z (...)` or of `name feature "f"`.
fn name(node: &str) -> &str {
    node.split(' ').next().unwrap_or(node)
}

/// `X.Y.Z` of `name vX.Y.Z (...)`.
fn version(node: &str) -> &str {
    node.split(' ')
        .nth(1)
        .and_then(|v| v.strip_prefix('v'))
        .unwrap_or_else(|| panic!("no version in {node:?}"))
}

/// `f` of `name feature "f"`, if the node is a feature.
fn feature(node: &str) -> Option<&str> {
    node.split_once(" feature \"")
        .and_then(|(_, f)| f.split('"').next())
}

/// What each function compiles (its normal dependencies, transitively), by package name:
/// the versions, and for each version the chain from the function to it.
fn crates_of_each_function(target: &str) -> BTreeMap<String, BTreeMap<String, Vec<String>>> {
    let graph = cargo_tree(target, &["--edges", "normal"]);
    functions()
        .into_iter()
        .map(|function| {
            let mut crates: BTreeMap<String, Vec<String>> = BTreeMap::new();
            for (node, chain) in graph.reachable(graph.root(&function)) {
                let described = format!("{} v{}", name(&node), version(&node));
                let chain = chain
                    .iter()
                    .map(|n| name(n).to_string())
                    .collect::<Vec<_>>();
                crates
                    .entry(name(&node).to_string())
                    .or_default()
                    .push(format!("{described} (via {})", chain.join(" -> ")));
            }
            (function, crates)
        })
        .collect()
}

fn versions<'a>(crates: &'a BTreeMap<String, Vec<String>>, package: &str) -> &'a [String] {
    crates.get(package).map(Vec::as_slice).unwrap_or_default()
}

#[test]
fn every_function_has_its_event_types_listed() {
    let listed: BTreeSet<String> = NEEDS.iter().map(|(f, _)| f.to_string()).collect();
    assert_eq!(
        listed,
        functions(),
        "NEEDS must name every package in functions/"
    );
}

/// The decoders, resizer, encoders and PDF rasterizer of thumbnails: the preview
/// function's alone, so no other binary (or its zip) carries them.
const IMAGE_CRATES: [&str; 9] = [
    "thumbnail",
    "jpeg-decoder",
    "png",
    "gif",
    "image-webp",
    "libwebp-sys",
    "fast_image_resize",
    "jpeg-encoder",
    "hayro",
];

#[test]
fn image_and_pdf_code_is_in_the_preview_function_only() {
    for target in TARGETS {
        for (function, crates) in crates_of_each_function(target) {
            let found: Vec<&str> = IMAGE_CRATES
                .into_iter()
                .filter(|c| crates.contains_key(*c))
                .collect();
            if function == "preview" {
                assert_eq!(found, IMAGE_CRATES, "preview ({target})");
            } else {
                assert!(found.is_empty(), "{function} ({target}) compiles {found:?}");
            }
        }
    }
}

#[test]
fn no_openssl_native_tls_or_aws_lc() {
    for target in TARGETS {
        for (function, crates) in crates_of_each_function(target) {
            let banned: Vec<&String> = crates
                .iter()
                .filter(|(package, _)| {
                    BANNED.contains(&package.as_str()) || package.starts_with(BANNED_PREFIX)
                })
                .flat_map(|(_, found)| found)
                .collect();
            assert!(
                banned.is_empty(),
                "{function} ({target}) compiles {banned:#?}"
            );
        }
    }
}

#[test]
fn one_http_stack_hyper_1() {
    for target in TARGETS {
        for (function, crates) in crates_of_each_function(target) {
            let hyper = versions(&crates, "hyper");
            assert!(
                hyper.len() == 1 && version(&hyper[0]).starts_with("1."),
                "{function} ({target}) must compile exactly one hyper, 1.x (no 0.14): {hyper:#?}"
            );
            let hyper_rustls = versions(&crates, "hyper-rustls");
            assert!(
                hyper_rustls.len() <= 1
                    && hyper_rustls
                        .iter()
                        .all(|v| !version(v).starts_with("0.24.")),
                "{function} ({target}) must compile at most one hyper-rustls, not 0.24 \
                 (the hyper 0.14 one): {hyper_rustls:#?}"
            );
        }
    }
}

#[test]
fn one_rustls() {
    for target in TARGETS {
        for (function, crates) in crates_of_each_function(target) {
            let rustls = versions(&crates, "rustls");
            assert_eq!(
                rustls.len(),
                1,
                "{function} ({target}) must compile exactly one rustls: {rustls:#?}"
            );
        }
    }
}

/// aws_lambda_events is compiled once for all the functions (one feature resolution), and
/// without its `default` feature, which is every one of its event types. Each feature it is
/// built with is an event type a function needs, or one lambda_http always asks for.
#[test]
fn aws_lambda_events_has_only_the_event_types_the_functions_need() {
    let needed: BTreeSet<&str> = NEEDS.iter().filter_map(|(_, event)| *event).collect();
    for target in TARGETS {
        let graph = cargo_tree(
            target,
            &["--edges", "features", "--invert", "aws_lambda_events"],
        );
        let [root] = graph.roots.as_slice() else {
            panic!(
                "one aws_lambda_events expected ({target}): {:?}",
                graph.roots
            );
        };
        // The features asked for by another crate (the others only follow from these).
        let mut event_types: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        for node in graph.children(root) {
            let feature = feature(node).unwrap_or_else(|| panic!("not a feature: {node}"));
            for by in graph.children(node) {
                if name(by) != "aws_lambda_events" {
                    event_types.entry(feature).or_default().insert(name(by));
                }
            }
        }

        assert!(
            !event_types.contains_key("default"),
            "aws_lambda_events' default features ({target}) are asked for by {:?}",
            event_types.get("default")
        );
        for (function, event) in NEEDS {
            let Some(event) = event else { continue };
            assert!(
                event_types.contains_key(event),
                "{function} needs aws_lambda_events' {event} ({target}): {event_types:?}"
            );
        }
        for (feature, by) in &event_types {
            let lambda_http_only = by.iter().all(|by| *by == "lambda_http");
            assert!(
                needed.contains(feature)
                    || (LAMBDA_HTTP_ALWAYS.contains(feature) && lambda_http_only),
                "aws_lambda_events' {feature} ({target}) is asked for by {by:?}, \
                 and no function needs it"
            );
        }
    }
}

/// lambda_http without its default features parses only API Gateway HTTP API (payload
/// v2) requests, the only ones template.yaml routes, not REST, WebSocket, ALB or VPC
/// Lattice ones.
#[test]
fn lambda_http_handles_only_http_api_requests() {
    for target in TARGETS {
        let graph = cargo_tree(target, &["--edges", "features", "--invert", "lambda_http"]);
        let [root] = graph.roots.as_slice() else {
            panic!("one lambda_http expected ({target}): {:?}", graph.roots);
        };
        let features: BTreeSet<&str> = graph
            .children(root)
            .iter()
            .filter_map(|n| feature(n))
            .collect();
        assert_eq!(
            features,
            BTreeSet::from(["apigw_http", "tracing"]),
            "lambda_http's features ({target})"
        );
    }
}

/// The features of `shared` a build of `selection` turns on.
fn shared_features(selection: &[&str], target: &str) -> BTreeSet<String> {
    let graph = cargo_tree_of(
        selection,
        target,
        &["--edges", "features", "--invert", "shared"],
    );
    graph
        .roots
        .iter()
        .flat_map(|root| graph.children(root).iter())
        .filter_map(|n| feature(n).map(str::to_owned))
        .collect()
}

#[test]
fn test_only_code_never_reaches_a_lambda_binary() {
    for target in TARGETS {
        // What `cargo lambda build --bin <function>` at the root selects: the default members.
        let built = shared_features(&[], target);
        assert!(
            !built.contains("conformance"),
            "the conformance checks and the fault-injecting backend would be built into the \
             functions ({target}): {built:?}"
        );
        // The tests do turn it on: the check above can see the feature.
        assert!(shared_features(&["--workspace"], target).contains("conformance"));
    }
}

/// The layers of the shared crate point one way: configuration, domain, ports and the
/// error type know nothing of the service, ingest, the HTTP layer or the adapters (the
/// cycle config -> ingest -> service -> config is gone and stays gone).
#[test]
fn the_foundation_modules_do_not_reach_up_into_the_service() {
    let src = root().join("shared/src");
    let foundation = [
        "config.rs",
        "error.rs",
        "time.rs",
        "seal.rs",
        "custom_url.rs",
        "url_policy.rs",
        "auth",
        "domain",
        "ports",
    ];
    let above = [
        "crate::service",
        "crate::ingest",
        "crate::api",
        "crate::adapters",
    ];
    let mut files = Vec::new();
    for entry in foundation {
        let path = src.join(entry);
        if path.is_dir() {
            for file in std::fs::read_dir(&path).unwrap() {
                files.push(file.unwrap().path());
            }
        } else {
            files.push(path);
        }
    }
    let mut found = Vec::new();
    for file in &files {
        let text = std::fs::read_to_string(file).unwrap();
        for name in above {
            if text.contains(name) {
                found.push(format!("{} uses {name}", file.display()));
            }
        }
    }
    assert!(
        files.len() > 20,
        "the foundation's files are read: {files:?}"
    );
    assert!(found.is_empty(), "{}", found.join("\n"));
}
