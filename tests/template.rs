//! `template.yaml` against the code: it lints clean, routes exactly what the
//! handlers serve, builds every function with cargo-lambda, and describes the
//! same bucket and table the local stack runs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use shared::api::ROUTES;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A tool from the project's .venv, or from PATH.
fn tool(name: &str) -> PathBuf {
    let local = root().join(".venv/bin").join(name);
    if local.exists() {
        local
    } else {
        PathBuf::from(name)
    }
}

fn run(command: &mut Command) -> String {
    let output = command.current_dir(root()).output().unwrap_or_else(|e| {
        panic!("{command:?} did not start ({e}); `make test` installs the Python tools into .venv")
    });
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "{command:?} failed:\n{text}");
    text
}

/// The template as JSON, read with the CloudFormation-aware loader the local stack uses.
fn template() -> Value {
    let script = "import json, sys; sys.path.insert(0, 'scripts'); import local_infra; \
                  print(json.dumps(local_infra.load_template(local_infra.template_path())))";
    let out = run(Command::new(tool("python")).args(["-c", script]));
    serde_json::from_str(&out).expect("the template as JSON")
}

fn functions(template: &Value) -> Vec<(String, Value)> {
    template["Resources"]
        .as_object()
        .expect("Resources")
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .map(|(name, r)| (name.clone(), r.clone()))
        .collect()
}

fn binary(function: &Value) -> String {
    function["Metadata"]["BuildProperties"]["Binary"]
        .as_str()
        .expect("Metadata.BuildProperties.Binary")
        .to_owned()
}

#[test]
fn template_passes_cfn_lint() {
    run(Command::new(tool("cfn-lint")).arg("template.yaml"));
}

#[test]
fn the_template_routes_exactly_what_the_handlers_serve() {
    let template = template();
    let mut declared = BTreeSet::new();
    for (name, function) in functions(&template) {
        let binary = binary(&function);
        let Some(events) = function["Properties"]["Events"].as_object() else {
            continue;
        };
        for event in events.values().filter(|e| e["Type"] == "HttpApi") {
            let props = &event["Properties"];
            let public = props["Auth"]["Authorizer"] == "NONE";
            declared.insert((
                props["Method"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{name}: Method"))
                    .to_uppercase(),
                props["Path"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{name}: Path"))
                    .to_owned(),
                binary.clone(),
                public,
            ));
        }
    }
    let served: BTreeSet<_> = ROUTES
        .iter()
        .map(|r| {
            (
                r.method.to_owned(),
                r.path.to_owned(),
                r.function.name().to_owned(),
                r.public,
            )
        })
        .collect();
    assert_eq!(
        declared, served,
        "template.yaml routes (left) differ from shared::api::ROUTES (right)"
    );
}

#[test]
fn every_function_is_a_cargo_lambda_build_of_a_workspace_binary() {
    let template = template();
    let mut in_template = BTreeSet::new();
    for (name, function) in functions(&template) {
        assert_eq!(
            function["Metadata"]["BuildMethod"], "rust-cargolambda",
            "{name}"
        );
        assert_eq!(
            function["Properties"]["CodeUri"], ".",
            "{name} builds from the workspace root"
        );
        in_template.insert(binary(&function));
    }
    let in_workspace: BTreeSet<String> = std::fs::read_dir(root().join("functions"))
        .expect("functions/")
        .map(|entry| entry.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(
        in_template, in_workspace,
        "every functions/<name> is deployed, and nothing else"
    );
    let globals = &template["Globals"]["Function"];
    assert_eq!(globals["Runtime"], "provided.al2023");
    assert_eq!(globals["Handler"], "bootstrap");
}

#[test]
fn the_expire_function_follows_temp_events_and_has_a_dead_letter_destination() {
    let template = template();
    let (_, expire) = functions(&template)
        .into_iter()
        .find(|(_, f)| binary(f) == "expire")
        .expect("an expire function");
    let events: Vec<&Value> = expire["Properties"]["Events"]
        .as_object()
        .expect("events")
        .values()
        .filter(|e| e["Type"] == "S3")
        .collect();
    let kinds: BTreeSet<String> = events
        .iter()
        .flat_map(|e| match &e["Properties"]["Events"] {
            Value::Array(list) => list
                .iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect(),
            Value::String(one) => vec![one.clone()],
            _ => vec![],
        })
        .collect();
    for kind in [
        "s3:ObjectCreated:*",
        "s3:ObjectRemoved:*",
        "s3:LifecycleExpiration:*",
    ] {
        assert!(
            kinds.contains(kind),
            "expire is not subscribed to {kind}: {kinds:?}"
        );
    }
    for event in &events {
        let rules = &event["Properties"]["Filter"]["S3Key"]["Rules"];
        assert!(
            rules.as_array().is_some_and(|r| r
                .iter()
                .any(|r| r["Name"] == "prefix" && r["Value"] == "temp/")),
            "every S3 event is filtered to temp/: {event}"
        );
    }
    assert!(
        !expire["Properties"]["DeadLetterQueue"].is_null()
            || !expire["Properties"]["EventInvokeConfig"].is_null(),
        "failed events go to a dead-letter destination"
    );
}

#[test]
fn public_uploads_are_throttled_and_limited_as_the_code_defaults_say() {
    use shared::config::{
        DEFAULT_PUBLIC_UPLOAD_BURST_LIMIT, DEFAULT_PUBLIC_UPLOAD_MAX_BYTES,
        DEFAULT_PUBLIC_UPLOAD_MIME_TYPES, DEFAULT_PUBLIC_UPLOAD_RATE_LIMIT,
    };
    let template = template();
    let default = |name: &str| template["Parameters"][name]["Default"].clone();
    let number = |name: &str| match default(name) {
        Value::String(s) => s.parse::<f64>().unwrap_or_else(|_| panic!("{name}: {s}")),
        other => other.as_f64().unwrap_or_else(|| panic!("{name}: {other}")),
    };
    assert_eq!(
        number("PublicUploadMaxBytes"),
        DEFAULT_PUBLIC_UPLOAD_MAX_BYTES as f64
    );
    assert_eq!(
        default("PublicUploadMimeTypes"),
        DEFAULT_PUBLIC_UPLOAD_MIME_TYPES
    );
    assert_eq!(
        number("PublicUploadRateLimit"),
        DEFAULT_PUBLIC_UPLOAD_RATE_LIMIT
    );
    assert_eq!(
        number("PublicUploadBurstLimit"),
        f64::from(DEFAULT_PUBLIC_UPLOAD_BURST_LIMIT)
    );

    let api = &template["Resources"]["FilesApi"]["Properties"];
    let throttle = &api["RouteSettings"]["POST /v1/files/public/upload"];
    assert_eq!(
        throttle["ThrottlingRateLimit"],
        serde_json::json!({"Ref": "PublicUploadRateLimit"})
    );
    assert_eq!(
        throttle["ThrottlingBurstLimit"],
        serde_json::json!({"Ref": "PublicUploadBurstLimit"})
    );
    let env = &template["Globals"]["Function"]["Environment"]["Variables"];
    for (variable, parameter) in [
        ("PUBLIC_UPLOAD_MAX_BYTES", "PublicUploadMaxBytes"),
        ("PUBLIC_UPLOAD_MIME_TYPES", "PublicUploadMimeTypes"),
        ("PUBLIC_UPLOAD_REQUIRE_SIZE", "PublicUploadRequireSize"),
    ] {
        assert_eq!(
            env[variable],
            serde_json::json!({ "Ref": parameter }),
            "{variable}"
        );
    }
}

#[test]
fn the_local_stack_has_the_templates_bucket_and_table() {
    // `make test` applies template.yaml to the emulator; this reads it back and compares.
    run(Command::new(tool("python")).args(["scripts/local_infra.py", "check"]));
}

/// The actions a function's inline policies allow, each with its statement.
fn allowed(template: &Value, function: &str) -> Vec<(String, Value)> {
    let (_, resource) = functions(template)
        .into_iter()
        .find(|(_, f)| binary(f) == function)
        .unwrap_or_else(|| panic!("no function {function}"));
    let mut actions = Vec::new();
    for policy in resource["Properties"]["Policies"].as_array().unwrap() {
        for statement in policy["Statement"].as_array().unwrap() {
            for action in statement["Action"].as_array().unwrap() {
                actions.push((action.as_str().unwrap().to_owned(), statement.clone()));
            }
        }
    }
    actions
}

#[test]
fn policies_allow_the_calls_each_function_makes_and_no_more() {
    let template = template();
    let names = |function: &str| -> Vec<String> {
        let mut names: Vec<String> = allowed(&template, function)
            .into_iter()
            .map(|(a, _)| a)
            .collect();
        names.sort();
        names
    };
    // Save: reads, the copy, the entity and the upload's claim in one transaction.
    assert_eq!(
        names("save"),
        [
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "s3:DeleteObject",
            "s3:GetObject",
            "s3:ListBucket",
            "s3:PutObject"
        ]
    );
    // Delete: freeze (UpdateItem), the objects, a look under the file's prefix, the entity.
    assert_eq!(
        names("delete"),
        [
            "dynamodb:DeleteItem",
            "dynamodb:UpdateItem",
            "s3:DeleteObject",
            "s3:ListBucket"
        ]
    );
    let (_, listing) = allowed(&template, "delete")
        .into_iter()
        .find(|(a, _)| a == "s3:ListBucket")
        .unwrap();
    assert_eq!(
        listing["Condition"]["StringLike"]["s3:prefix"], "files/*",
        "a delete lists only under files/"
    );
    // The S3-event function updates records, so a save's claim survives the event.
    assert_eq!(names("expire"), ["dynamodb:UpdateItem"]);
}

#[test]
fn public_url_comes_from_a_parameter_never_from_the_request() {
    let template = template();
    let env = &template["Globals"]["Function"]["Environment"]["Variables"];
    assert_eq!(
        env["PUBLIC_BASE_URL"],
        serde_json::json!({"Ref": "PublicBaseUrl"})
    );
    assert_eq!(template["Parameters"]["PublicBaseUrl"]["Default"], "");
}
