//! `template.yaml` against the code: it lints clean, routes exactly what the
//! handlers serve, builds every function with cargo-lambda, and describes the
//! same bucket and table the local stack runs.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use shared::api::all_routes;

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

/// The template's HTTP API routes: (method, path, function binary, public).
fn template_routes(template: &Value) -> BTreeSet<(String, String, String, bool)> {
    let mut declared = BTreeSet::new();
    for (name, function) in functions(template) {
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
    declared
}

#[test]
fn the_template_routes_exactly_what_the_handlers_serve() {
    let declared = template_routes(&template());
    let served: BTreeSet<_> = all_routes::<shared::AwsBackend>()
        .iter()
        .map(|(function, r)| {
            (
                r.method.to_string(),
                r.path.to_owned(),
                function.name().to_owned(),
                r.gateway_open(),
            )
        })
        .collect();
    assert_eq!(
        declared, served,
        "template.yaml routes (left) differ from shared::api::functions' tables (right)"
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
    // Save: reads, the copy, the entity, the usage counter and the upload's claim in
    // one transaction; a direct upload's PUT; the ingest function's invocation, and
    // the removal of a new file whose fetch failed within the wait; usage for a quota.
    assert_eq!(
        names("save"),
        [
            "dynamodb:DeleteItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
            "lambda:InvokeFunction",
            "s3:AbortMultipartUpload",
            "s3:DeleteObject",
            "s3:GetObject",
            "s3:ListBucket",
            "s3:PutObject"
        ]
    );
    // Upload: presigned PUTs, and the steps of a multipart upload, under temp/ only;
    // usage for a quota (the counter, the files with an end).
    assert_eq!(
        names("upload"),
        [
            "dynamodb:GetItem",
            "dynamodb:Query",
            "s3:AbortMultipartUpload",
            "s3:ListMultipartUploadParts",
            "s3:PutObject"
        ]
    );
    for (action, statement) in allowed(&template, "upload") {
        let expected = match action.as_str() {
            "dynamodb:GetItem" => serde_json::json!({"Fn::GetAtt": ["FilesTable", "Arn"]}),
            "dynamodb:Query" => serde_json::json!([
                {"Fn::Sub": "${FilesTable.Arn}/index/by_org_expiry"},
                {"Fn::Sub": "${FilesTable.Arn}/index/by_org_trash"}
            ]),
            _ => serde_json::json!({"Fn::Sub": "${FilesBucket.Arn}/temp/*"}),
        };
        assert_eq!(statement["Resource"], expected, "{action}");
    }
    // Get: reads only, the indexes for lists, counts and usage.
    assert_eq!(names("get"), ["dynamodb:GetItem", "dynamodb:Query"]);
    let (_, invoke) = allowed(&template, "save")
        .into_iter()
        .find(|(a, _)| a == "lambda:InvokeFunction")
        .unwrap();
    assert_eq!(
        invoke["Resource"],
        serde_json::json!({"Fn::GetAtt": ["IngestFunction", "Arn"]}),
        "save invokes the ingest function only"
    );
    // Ingest: the multipart upload of a version (and its abort), the fetch's record.
    assert_eq!(
        names("ingest"),
        [
            "dynamodb:GetItem",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
            "s3:AbortMultipartUpload",
            "s3:DeleteObject",
            "s3:PutObject"
        ]
    );
    // Sweep: a look under an expired file's prefix, its objects, the failures kept;
    // purged trash settled on the usage counter, under a marker, and nothing else.
    assert_eq!(
        names("sweep"),
        [
            "dynamodb:PutItem",
            "dynamodb:UpdateItem",
            "s3:DeleteObject",
            "s3:ListBucket",
            "sqs:SendMessage"
        ]
    );
    for (action, statement) in allowed(&template, "sweep") {
        if action.starts_with("dynamodb:") {
            assert_eq!(
                statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"],
                serde_json::json!(["SETTLED#*", "USAGE#*"]),
                "the sweep writes only settle markers and usage counters"
            );
        }
    }
    // Delete: read, trash or freeze (UpdateItem), the objects, a look under the file's
    // prefix, the entity; a delete by filter lists what matches; collections.
    assert_eq!(
        names("delete"),
        [
            "dynamodb:DeleteItem",
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "dynamodb:Query",
            "dynamodb:UpdateItem",
            "s3:DeleteObject",
            "s3:ListBucket"
        ]
    );
    let (_, collections) = allowed(&template, "delete")
        .into_iter()
        .find(|(a, _)| a == "dynamodb:PutItem")
        .unwrap();
    assert_eq!(
        collections["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"],
        serde_json::json!(["COLLECTIONS#*", "WEBHOOKS#*"]),
        "a delete writes whole items of collections and webhooks only"
    );
    let (_, listing) = allowed(&template, "delete")
        .into_iter()
        .find(|(a, _)| a == "s3:ListBucket")
        .unwrap();
    assert_eq!(
        listing["Condition"]["StringLike"]["s3:prefix"], "files/*",
        "a delete lists only under files/"
    );
    // Preview: the entity, the source and a cached preview (ListBucket turns a missing
    // one into 404, not 403), and the cache written beside versions only.
    assert_eq!(
        names("preview"),
        [
            "dynamodb:GetItem",
            "s3:GetObject",
            "s3:ListBucket",
            "s3:PutObject"
        ]
    );
    let (_, cache) = allowed(&template, "preview")
        .into_iter()
        .find(|(a, _)| a == "s3:PutObject")
        .unwrap();
    assert_eq!(
        cache["Resource"],
        serde_json::json!({"Fn::Sub": "${FilesBucket.Arn}/files/*/preview/*"}),
        "previews are written beside versions, nowhere else"
    );
    // Events: publishes to the stack's own bus, keeps what it could not publish, reads
    // the webhooks of an event's organisation and queues their deliveries; it reads the
    // stream (SAM's stream role) and nothing else of the table.
    assert_eq!(
        names("events"),
        [
            "dynamodb:GetItem",
            "events:PutEvents",
            "sqs:SendMessage",
            "sqs:SendMessage"
        ]
    );
    for (action, statement) in allowed(&template, "events") {
        if action == "dynamodb:GetItem" {
            assert_eq!(
                statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"],
                serde_json::json!(["WEBHOOKS#*"]),
                "the events function reads webhooks only"
            );
        }
    }
    // Webhooks: reads webhooks and their logs, writes logs only, puts off a retry.
    assert_eq!(
        names("webhooks"),
        [
            "dynamodb:GetItem",
            "dynamodb:PutItem",
            "sqs:ChangeMessageVisibility"
        ]
    );
    for (action, statement) in allowed(&template, "webhooks") {
        let keys = &statement["Condition"]["ForAllValues:StringLike"]["dynamodb:LeadingKeys"];
        match action.as_str() {
            "dynamodb:GetItem" => {
                assert_eq!(keys, &serde_json::json!(["WEBHOOKS#*", "WEBHOOKLOG#*"]))
            }
            "dynamodb:PutItem" => assert_eq!(keys, &serde_json::json!(["WEBHOOKLOG#*"])),
            _ => assert_eq!(
                statement["Resource"],
                serde_json::json!({"Fn::GetAtt": ["WebhookQueue", "Arn"]})
            ),
        }
    }
    let (_, publish) = allowed(&template, "events")
        .into_iter()
        .find(|(a, _)| a == "events:PutEvents")
        .unwrap();
    assert_eq!(
        publish["Resource"],
        serde_json::json!({"Fn::GetAtt": ["FilesEventBus", "Arn"]}),
        "events go to the stack's bus only"
    );
    // Scan: a verdict on its version; an infected file's purge (with
    // InfectedAction=delete) under files/ only.
    assert_eq!(
        names("scan"),
        [
            "dynamodb:DeleteItem",
            "dynamodb:GetItem",
            "dynamodb:UpdateItem",
            "s3:DeleteObject",
            "s3:ListBucket"
        ]
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

/// The template as CloudFormation receives it, after the SAM transform.
fn transformed() -> Value {
    let out = run(Command::new(tool("python")).args(["scripts/sam_lint.py", "--print"]));
    serde_json::from_str(&out).expect("the transformed template as JSON")
}

fn resources_of<'a>(template: &'a Value, kind: &str) -> Vec<(&'a String, &'a Value)> {
    template["Resources"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(_, r)| r["Type"] == kind)
        .collect()
}

/// `AlarmActions`/`OKActions` as every alarm has them: the topic if one is given.
fn notifies_the_topic(actions: &Value) -> bool {
    *actions
        == serde_json::json!({"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]})
}

#[test]
fn alarms_watch_the_dead_letter_queue_errors_throttles_5xx_and_event_age() {
    let template = template();
    let alarms = resources_of(&template, "AWS::CloudWatch::Alarm");
    assert!(alarms.len() >= 4, "{} alarms", alarms.len());
    for (name, alarm) in &alarms {
        let props = &alarm["Properties"];
        assert!(
            notifies_the_topic(&props["AlarmActions"]),
            "{name} alarm actions"
        );
        assert!(notifies_the_topic(&props["OKActions"]), "{name} OK actions");
    }
    let watching = |metric: &str, dimension: Value| {
        alarms.iter().any(|(_, a)| {
            let p = &a["Properties"];
            p["MetricName"] == metric && p["Dimensions"][0]["Value"] == dimension
        })
    };
    for (resource, _) in functions(&template) {
        for metric in ["Errors", "Throttles"] {
            assert!(
                watching(metric, serde_json::json!({"Ref": resource})),
                "{metric} of {resource}"
            );
        }
    }
    assert!(watching(
        "ApproximateNumberOfMessagesVisible",
        serde_json::json!({"Fn::GetAtt": ["ExpireDeadLetterQueue", "QueueName"]})
    ));
    assert!(watching(
        "AsyncEventAge",
        serde_json::json!({"Ref": "ExpireFunction"})
    ));
    // Events waiting on the stream, and batches the stream dropped unpublished.
    assert!(watching(
        "IteratorAge",
        serde_json::json!({"Ref": "EventsFunction"})
    ));
    assert!(watching(
        "ApproximateNumberOfMessagesVisible",
        serde_json::json!({"Fn::GetAtt": ["EventsDeadLetterQueue", "QueueName"]})
    ));
    assert!(watching(
        "ApproximateNumberOfMessagesVisible",
        serde_json::json!({"Fn::GetAtt": ["WebhookDeadLetterQueue", "QueueName"]})
    ));
    assert!(watching(
        "ApproximateNumberOfMessagesVisible",
        serde_json::json!({"Fn::GetAtt": ["ScanDeadLetterQueue", "QueueName"]})
    ));
    let api_5xx = alarms.iter().any(|(_, a)| {
        a["Properties"]["Metrics"].as_array().is_some_and(|m| {
            m.iter()
                .any(|q| q["MetricStat"]["Metric"]["MetricName"] == "5xx")
        })
    });
    assert!(api_5xx, "an alarm on the API's 5xx rate");
    assert_eq!(template["Parameters"]["AlarmTopicArn"]["Default"], "");
}

#[test]
fn every_function_logs_json_to_its_own_group_kept_for_a_parameter() {
    let template = transformed();
    let groups = resources_of(&template, "AWS::Logs::LogGroup");
    let retention = |name: &str| {
        template["Resources"][name]["Properties"]["RetentionInDays"]
            == serde_json::json!({"Ref": "LogRetentionDays"})
    };
    let mut seen = BTreeSet::new();
    for (name, function) in resources_of(&template, "AWS::Lambda::Function") {
        let logging = &function["Properties"]["LoggingConfig"];
        assert_eq!(logging["LogFormat"], "JSON", "{name}");
        let group = logging["LogGroup"]["Ref"]
            .as_str()
            .unwrap_or_else(|| panic!("{name}: a group"));
        assert!(
            groups.iter().any(|(g, _)| *g == group),
            "{name}: {group} is a log group"
        );
        assert!(retention(group), "{group} is kept LogRetentionDays");
        assert!(seen.insert(group.to_owned()), "{group} serves one function");
    }
    assert_eq!(template["Parameters"]["LogRetentionDays"]["Default"], 30);
    // The API's access log, in JSON.
    let (_, stage) = resources_of(&template, "AWS::ApiGatewayV2::Stage")[0];
    let access = &stage["Properties"]["AccessLogSettings"];
    assert_eq!(
        access["DestinationArn"],
        serde_json::json!({"Fn::GetAtt": ["ApiAccessLogGroup", "Arn"]})
    );
    assert!(retention("ApiAccessLogGroup"));
    let format: Value = serde_json::from_str(access["Format"].as_str().unwrap()).expect("JSON");
    for field in ["requestId", "route", "status", "ip"] {
        assert!(format.get(field).is_some(), "access log field {field}");
    }
}

#[test]
fn tracing_and_reserved_concurrency_are_parameters() {
    let template = transformed();
    for (name, function) in resources_of(&template, "AWS::Lambda::Function") {
        let props = &function["Properties"];
        assert_eq!(
            props["TracingConfig"]["Mode"],
            serde_json::json!({"Fn::If": ["TracingOn", "Active", "PassThrough"]}),
            "{name}"
        );
        assert_eq!(
            props["ReservedConcurrentExecutions"],
            serde_json::json!({"Fn::If": ["HasReservedConcurrency", {"Ref": "ReservedConcurrency"}, {"Ref": "AWS::NoValue"}]}),
            "{name}"
        );
    }
    assert_eq!(template["Parameters"]["TracingEnabled"]["Default"], "false");
    assert_eq!(template["Parameters"]["ReservedConcurrency"]["Default"], 0);
}

#[test]
fn the_stage_and_every_route_without_a_token_are_throttled() {
    let template = template();
    let api = &template["Resources"]["FilesApi"]["Properties"];
    assert_eq!(
        api["DefaultRouteSettings"]["ThrottlingRateLimit"],
        serde_json::json!({"Ref": "DefaultRateLimit"})
    );
    assert_eq!(
        api["DefaultRouteSettings"]["ThrottlingBurstLimit"],
        serde_json::json!({"Ref": "DefaultBurstLimit"})
    );
    for (_, route) in all_routes::<shared::AwsBackend>()
        .iter()
        .filter(|(_, r)| r.gateway_open())
    {
        let key = format!("{} {}", route.method, route.path);
        let settings = &api["RouteSettings"][&key];
        assert!(
            settings["ThrottlingRateLimit"].is_object(),
            "{key} has a rate limit"
        );
        assert!(
            settings["ThrottlingBurstLimit"].is_object(),
            "{key} has a burst limit"
        );
    }
}

#[test]
fn cors_allows_only_what_the_routes_use_and_exposes_what_browsers_read() {
    let template = template();
    let cors = &template["Resources"]["FilesApi"]["Properties"]["CorsConfiguration"];
    let listed = |v: &Value| -> BTreeSet<String> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|m| m.as_str().unwrap().to_ascii_lowercase())
            .collect()
    };
    let used: BTreeSet<String> = all_routes::<shared::AwsBackend>()
        .iter()
        .map(|(_, r)| r.method.as_str().to_ascii_lowercase())
        .collect();
    assert_eq!(listed(&cors["AllowMethods"]), used, "the API's methods");
    let exposed = listed(&cors["ExposeHeaders"]);
    for header in ["etag", "content-disposition", "retry-after"] {
        assert!(exposed.contains(header), "the API exposes {header}");
    }
    let bucket =
        &template["Resources"]["FilesBucket"]["Properties"]["CorsConfiguration"]["CorsRules"][0];
    let allowed = listed(&bucket["AllowedHeaders"]);
    assert!(
        !allowed.contains("*"),
        "the bucket names its allowed headers"
    );
    assert!(allowed.contains("content-type"));
    assert!(
        listed(&bucket["ExposedHeaders"]).contains("etag"),
        "multipart clients read ETag"
    );
    // The local API answers preflights as the template configures the HTTP API.
    let local: BTreeSet<String> = local_api::cors::ALLOW_METHODS
        .split(',')
        .map(|m| m.to_ascii_lowercase())
        .collect();
    assert_eq!(
        local, used,
        "the local API's preflight allows the same methods"
    );
    assert_eq!(
        local_api::cors::EXPOSE_HEADERS,
        cors["ExposeHeaders"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h.as_str().unwrap())
            .collect::<Vec<_>>()
            .join(",")
    );
}

#[test]
fn the_table_is_protected_and_every_function_sized_for_its_work() {
    let template = template();
    assert_eq!(
        template["Resources"]["FilesTable"]["Properties"]["DeletionProtectionEnabled"],
        true
    );
    for (name, function) in functions(&template) {
        let props = &function["Properties"];
        assert!(props["MemorySize"].is_number(), "{name} sets its memory");
        assert!(props["Timeout"].is_number(), "{name} sets its timeout");
    }
    let save = functions(&template)
        .into_iter()
        .find(|(_, f)| binary(f) == "save")
        .unwrap()
        .1;
    assert!(
        save["Properties"]["Timeout"].as_u64().unwrap() >= 60,
        "a save copying 5 GiB has the time it needs"
    );
    let (_, listing) = allowed(&template, "save")
        .into_iter()
        .find(|(a, _)| a == "s3:ListBucket")
        .unwrap();
    assert_eq!(
        listing["Condition"]["StringLike"]["s3:prefix"],
        serde_json::json!(["temp/*", "files/*"]),
        "save lists only its prefixes"
    );
}

/// docs/openapi.json, read as the local API serves it.
fn openapi() -> Value {
    serde_json::from_slice(local_api::assets::OPENAPI.body).expect("docs/openapi.json is JSON")
}

#[test]
fn the_openapi_document_the_route_table_and_the_template_agree() {
    use shared::api::Auth;
    let doc = openapi();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let schemes: BTreeSet<String> = operation["security"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path}: security is stated"))
                .iter()
                .flat_map(|s| s.as_object().expect("a requirement").keys().cloned())
                .collect();
            let schemes: Vec<&str> = schemes.iter().map(String::as_str).collect();
            documented.insert((method.to_uppercase(), path.clone(), schemes.join("+")));
        }
    }
    let routed: BTreeSet<_> = all_routes::<shared::AwsBackend>()
        .iter()
        .map(|(_, r)| {
            let schemes = match r.auth {
                Auth::Token => "BearerAuth",
                Auth::TokenOrCookie => "BearerAuth+CookieAuth",
                Auth::Public => "",
            };
            (r.method.to_string(), r.path.to_owned(), schemes.to_owned())
        })
        .collect();
    assert_eq!(
        documented, routed,
        "docs/openapi.json (left) differs from shared::api::functions' tables (right)"
    );
    // And the template: the same method and path for every row, none more.
    let declared: BTreeSet<(String, String)> = template_routes(&template())
        .into_iter()
        .map(|(method, path, _, _)| (method, path))
        .collect();
    let documented: BTreeSet<(String, String)> =
        documented.into_iter().map(|(m, p, _)| (m, p)).collect();
    assert_eq!(
        documented, declared,
        "docs/openapi.json (left) differs from template.yaml (right)"
    );
}

#[test]
fn every_documented_operation_names_its_answers_and_errors() {
    let doc = openapi();
    let mut ids = BTreeSet::new();
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, operation) in item.as_object().expect("a path item") {
            let at = format!("{method} {path}");
            let id = operation["operationId"]
                .as_str()
                .unwrap_or_else(|| panic!("{at}: operationId"));
            assert!(
                ids.insert(id.to_owned()),
                "{at}: operationId {id} is used twice"
            );
            let responses = operation["responses"].as_object().expect("responses");
            assert!(
                responses
                    .keys()
                    .any(|c| c.starts_with('2') || c.starts_with('3')),
                "{at}: no success answer"
            );
            for code in ["400", "503"] {
                assert!(
                    responses.contains_key(code),
                    "{at}: {code} is not documented"
                );
            }
            let open = operation["security"].as_array().is_some_and(Vec::is_empty);
            assert_eq!(
                !open,
                responses.contains_key("401"),
                "{at}: 401 iff a token is needed"
            );
            for (code, answer) in responses {
                if code.starts_with('4') || code.starts_with('5') {
                    assert_eq!(
                        answer["$ref"].as_str(),
                        Some(format!("#/components/responses/E{code}").as_str()),
                        "{at}: {code} answers the error object"
                    );
                }
            }
            // Path parameters are declared for every template variable.
            for variable in path.split('/').filter(|s| s.starts_with('{')) {
                let name = variable.trim_matches(|c| c == '{' || c == '}');
                assert!(
                    operation["parameters"].as_array().is_some_and(|ps| ps
                        .iter()
                        .any(|p| p["in"] == "path" && p["name"] == name)),
                    "{at}: path parameter {name} is not declared"
                );
            }
        }
    }
    // The error object is the one the handlers write (shared::api::wire::ErrorJson).
    let error = &doc["components"]["schemas"]["Error"];
    assert_eq!(error["required"], serde_json::json!(["error", "message"]));
}

#[test]
fn the_local_api_serves_every_file_of_the_console() {
    let folder = root().join("web/console");
    let files: BTreeSet<String> = std::fs::read_dir(&folder)
        .expect("web/console")
        .map(|e| {
            e.expect("an entry")
                .file_name()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let served: BTreeSet<String> = local_api::assets::CONSOLE
        .iter()
        .filter(|a| a.path != "/")
        .map(|a| a.path.trim_start_matches('/').to_owned())
        .collect();
    assert_eq!(
        files, served,
        "web/console (left) and the files the local API serves (right)"
    );
    for asset in local_api::assets::CONSOLE {
        let on_disk = std::fs::read(folder.join(match asset.path {
            "/" => "index.html",
            p => p.trim_start_matches('/'),
        }))
        .expect("the file");
        assert_eq!(
            on_disk, asset.body,
            "{} is served as it is on disk",
            asset.path
        );
    }
}

/// What `sam local` needs (the functions' own check of development tokens, the
/// emulators' endpoints) is in no deployed function: each variable exists only under a
/// condition on a parameter whose default is empty.
#[test]
fn sam_local_settings_are_absent_from_a_deployment_with_the_defaults() {
    let template = template();
    let env = &template["Globals"]["Function"]["Environment"]["Variables"];
    for (variable, parameter) in [
        ("DEV_JWT_SECRET", "DevJwtSecret"),
        ("DEV_JWT_ISSUER", "DevJwtSecret"),
        ("DEV_JWT_AUDIENCE", "DevJwtSecret"),
        ("AWS_ENDPOINT_URL_S3", "LocalS3Endpoint"),
        ("AWS_ENDPOINT_URL_DYNAMODB", "LocalDynamoDbEndpoint"),
        ("AWS_ENDPOINT_URL_LAMBDA", "LocalLambdaEndpoint"),
        ("AWS_ENDPOINT_URL_EVENTBRIDGE", "LocalEventsEndpoint"),
        ("AWS_ENDPOINT_URL_SQS", "LocalEventsEndpoint"),
    ] {
        let branches = env[variable]["Fn::If"]
            .as_array()
            .unwrap_or_else(|| panic!("{variable} is set under a condition"));
        assert_eq!(
            branches[2],
            serde_json::json!({"Ref": "AWS::NoValue"}),
            "{variable}"
        );
        let condition = &template["Conditions"][branches[0].as_str().expect("a condition name")];
        assert_eq!(
            condition,
            &serde_json::json!({"Fn::Not": [{"Fn::Equals": [{"Ref": parameter}, ""]}]}),
            "{variable} is set only when {parameter} is not empty"
        );
        assert_eq!(
            template["Parameters"][parameter]["Default"], "",
            "{parameter}"
        );
    }
    assert_eq!(template["Parameters"]["DevJwtSecret"]["NoEcho"], true);
    // No function sets them itself.
    for (name, function) in functions(&template) {
        let own = &function["Properties"]["Environment"]["Variables"];
        for variable in ["DEV_JWT_SECRET", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"] {
            assert!(own.get(variable).is_none(), "{name} sets {variable}");
        }
    }
}

#[test]
fn events_follow_the_whole_stream_in_order_and_none_is_dropped_unkept() {
    let template = template();
    assert_eq!(
        template["Resources"]["FilesTable"]["Properties"]["StreamSpecification"]["StreamViewType"],
        "NEW_AND_OLD_IMAGES",
        "the events function compares the item before and after each write"
    );
    let (_, events) = functions(&template)
        .into_iter()
        .find(|(_, f)| binary(f) == "events")
        .unwrap();
    let source = &events["Properties"]["Events"]["FileChanges"]["Properties"];
    assert_eq!(
        source["Stream"],
        serde_json::json!({"Fn::GetAtt": ["FilesTable", "StreamArn"]})
    );
    assert_eq!(
        source["ParallelizationFactor"], 1,
        "one batch per shard: in order"
    );
    assert_eq!(
        source["MaximumRetryAttempts"], -1,
        "retried until published"
    );
    assert_eq!(
        source["FunctionResponseTypes"],
        serde_json::json!(["ReportBatchItemFailures"]),
        "a failed batch goes again from its first unpublished record"
    );
    assert_eq!(
        source["DestinationConfig"]["OnFailure"]["Destination"],
        serde_json::json!({"Fn::GetAtt": ["EventsDeadLetterQueue", "Arn"]})
    );
    let filters: Vec<Value> = source["FilterCriteria"]["Filters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| serde_json::from_str(f["Pattern"].as_str().unwrap()).unwrap())
        .collect();
    assert_eq!(
        filters,
        [
            serde_json::json!({"dynamodb": {"NewImage": {"kind": {"S": ["file", "upload"]}}}}),
            serde_json::json!({"dynamodb": {"OldImage": {"kind": {"S": ["file"]}}}}),
        ]
    );
    assert_eq!(
        events["Properties"]["Environment"]["Variables"]["EVENT_BUS_NAME"],
        serde_json::json!({"Ref": "FilesEventBus"})
    );
    assert_eq!(
        template["Resources"]["FilesEventBus"]["Type"],
        "AWS::Events::EventBus"
    );
    // Webhook deliveries: retried past a day (30 s doubling to 6 h, 14 attempts; the
    // function gives up on the attempt the queue moves to the dead-letter queue after).
    let queue = &template["Resources"]["WebhookQueue"]["Properties"];
    assert_eq!(queue["RedrivePolicy"]["maxReceiveCount"], 14);
    assert_eq!(
        queue["RedrivePolicy"]["deadLetterTargetArn"],
        serde_json::json!({"Fn::GetAtt": ["WebhookDeadLetterQueue", "Arn"]})
    );
    let (_, webhooks) = functions(&template)
        .into_iter()
        .find(|(_, f)| binary(f) == "webhooks")
        .unwrap();
    assert_eq!(
        webhooks["Properties"]["Environment"]["Variables"]["WEBHOOK_MAX_ATTEMPTS"],
        queue["RedrivePolicy"]["maxReceiveCount"]
    );
    let delays: u64 = (1..14)
        .map(|n| shared::domain::retry_delay_seconds(30, n))
        .sum();
    assert!(delays > 24 * 3600, "retried for {delays} s");
    assert!(
        queue["VisibilityTimeout"].as_u64().unwrap()
            >= 6 * webhooks["Properties"]["Timeout"].as_u64().unwrap()
    );
    assert_eq!(
        webhooks["Properties"]["Events"]["Deliveries"]["Properties"]["FunctionResponseTypes"],
        serde_json::json!(["ReportBatchItemFailures"])
    );
    for output in [
        "EventBusName",
        "EventBusArn",
        "EventsDeadLetterQueueUrl",
        "WebhookDeadLetterQueueUrl",
    ] {
        assert!(template["Outputs"][output].is_object(), "output {output}");
    }
}

#[test]
fn guardduty_scans_the_bucket_only_when_scanning_is_on_and_its_results_reach_the_scan_function() {
    let template = template();
    assert_eq!(template["Parameters"]["ScanMode"]["Default"], "none");
    assert_eq!(
        template["Parameters"]["ScanBlocksDownloads"]["Default"],
        "true"
    );
    assert_eq!(template["Parameters"]["InfectedAction"]["Default"], "keep");
    let plan = &template["Resources"]["MalwareProtectionPlan"];
    assert_eq!(plan["Type"], "AWS::GuardDuty::MalwareProtectionPlan");
    assert_eq!(plan["Condition"], "ScanWithGuardDuty");
    assert_eq!(
        template["Resources"]["MalwareProtectionRole"]["Condition"],
        "ScanWithGuardDuty"
    );
    assert_eq!(
        template["Conditions"]["ScanWithGuardDuty"],
        serde_json::json!({"Fn::Equals": [{"Ref": "ScanMode"}, "guardduty"]})
    );
    assert_eq!(
        plan["Properties"]["ProtectedResource"]["S3Bucket"]["ObjectPrefixes"],
        serde_json::json!(["files/", "temp/"])
    );
    let env = &template["Globals"]["Function"]["Environment"]["Variables"];
    for (variable, parameter) in [
        ("SCAN_MODE", "ScanMode"),
        ("SCAN_BLOCKS_DOWNLOADS", "ScanBlocksDownloads"),
        ("INFECTED_ACTION", "InfectedAction"),
    ] {
        assert_eq!(
            env[variable],
            serde_json::json!({"Ref": parameter}),
            "{variable}"
        );
    }
    let (_, scan) = functions(&template)
        .into_iter()
        .find(|(_, f)| binary(f) == "scan")
        .unwrap();
    let rule = &scan["Properties"]["Events"]["ScanResults"]["Properties"];
    assert_eq!(
        rule["Pattern"]["detail-type"],
        serde_json::json!([shared::guardduty::DETAIL_TYPE])
    );
    assert_eq!(
        rule["Pattern"]["source"],
        serde_json::json!(["aws.guardduty"])
    );
    assert_eq!(
        rule["Pattern"]["detail"]["s3ObjectDetails"]["bucketName"],
        serde_json::json!([{"Ref": "FilesBucket"}])
    );
    assert_eq!(
        rule["DeadLetterConfig"]["Arn"],
        serde_json::json!({"Fn::GetAtt": ["ScanDeadLetterQueue", "Arn"]})
    );
}
