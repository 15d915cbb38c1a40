#!/usr/bin/env python3
"""Creates and checks the local stack (bucket and table) from template.yaml.

    local_infra.py apply   create the bucket and the table if absent and (re)apply the
                           bucket's CORS, lifecycle, public access block, encryption and
                           ownership controls and the table's TTL; idempotent. Then it
                           runs `check`, so it fails unless the endpoint took it all
    local_infra.py check   read that configuration back from the endpoint and compare it
                           with the template: exit 0 with one line when they agree, else
                           print every difference and exit 1

template.yaml is the single source of truth: this script reads the `FilesBucket` and
`FilesTable` resources from it (a `!Ref` to a parameter resolves to the parameter's
Default) and converts the CloudFormation property shapes to the S3 and DynamoDB API
shapes. Nothing about the bucket or the table is written anywhere else. Only the
properties the template uses are known; any other one is refused with a message, so
the local stack never silently differs from a deployment.

Environment:
    AWS_ENDPOINT_URL   emulator endpoint (default http://127.0.0.1:4566)
    AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL_DYNAMODB
                       per-service endpoints, before AWS_ENDPOINT_URL (as the AWS SDKs do)
    AWS_REGION         region (default us-east-1); credentials are always test/test
    FILES_BUCKET       bucket name (default file-service-local)
    FILES_TABLE        table name (default file-service-local)
    TEMPLATE_PATH      template to read (default template.yaml at the repository root)
    LOCAL_INFRA_RECREATE_TABLE=1
                       let `apply` delete and recreate a table whose keys or indexes no
                       longer match the template (its items are lost)
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any, Callable

import yaml

ROOT = Path(__file__).resolve().parent.parent
BUCKET_RESOURCE = "FilesBucket"
TABLE_RESOURCE = "FilesTable"


class InfraError(Exception):
    """A problem the user has to fix (bad template, unreachable endpoint, ...)."""


# --------------------------------------------------------------------------- template


class CfnLoader(yaml.SafeLoader):
    """SafeLoader that turns CloudFormation short tags (!Ref, !Sub, !GetAtt, ...) into
    their long forms ({"Ref": ...}, {"Fn::Sub": ...}, {"Fn::GetAtt": [...]})."""


def _construct_cfn_tag(loader: CfnLoader, tag_suffix: str, node: yaml.Node) -> dict[str, Any]:
    if isinstance(node, yaml.ScalarNode):
        value: Any = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)
    if tag_suffix == "Ref":
        return {"Ref": value}
    if tag_suffix == "Condition":
        return {"Condition": value}
    if tag_suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{tag_suffix}": value}


CfnLoader.add_multi_constructor("!", _construct_cfn_tag)


def template_path() -> Path:
    raw = os.environ.get("TEMPLATE_PATH", "").strip()
    if not raw:
        return ROOT / "template.yaml"
    path = Path(raw)
    return path if path.is_absolute() else Path.cwd() / path


def load_template(path: Path) -> dict[str, Any]:
    try:
        with path.open(encoding="utf-8") as handle:
            template = yaml.load(handle, Loader=CfnLoader)  # noqa: S506 (SafeLoader subclass)
    except OSError as err:
        raise InfraError(f"cannot read {path}: {err}") from err
    except yaml.YAMLError as err:
        raise InfraError(f"{path} is not valid YAML: {err}") from err
    if not isinstance(template, dict):
        raise InfraError(f"{path}: not a CloudFormation template")
    return template


class Resolver:
    """Resolves `Ref` to a parameter into the parameter's Default; any other intrinsic
    function (or a Ref to a resource) is an error: those properties must stay literal."""

    def __init__(self, template: dict[str, Any], source: Path) -> None:
        self.parameters = template.get("Parameters") or {}
        self.source = source

    def parameter_default(self, name: str, where: str) -> Any:
        spec = self.parameters.get(name)
        if not isinstance(spec, dict):
            raise InfraError(
                f"{self.source}: {where}: !Ref {name} is not a parameter; keep this property "
                "literal (or a !Ref to a parameter with a Default) so the local stack can use it"
            )
        if "Default" not in spec:
            raise InfraError(f"{self.source}: {where}: parameter {name} has no Default")
        default = spec["Default"]
        kind = str(spec.get("Type", "String"))
        if kind == "CommaDelimitedList" or kind.startswith("List<"):
            if isinstance(default, list):
                return [str(item).strip() for item in default]
            return [item.strip() for item in str(default).split(",")]
        return default

    def resolve(self, value: Any, where: str) -> Any:
        if isinstance(value, dict):
            if len(value) == 1:
                (key,) = value
                if key == "Ref":
                    return self.parameter_default(str(value[key]), where)
                if key.startswith("Fn::") or key == "Condition":
                    raise InfraError(
                        f"{self.source}: {where}: {key} cannot be evaluated locally; keep this "
                        "property literal (or a !Ref to a parameter with a Default)"
                    )
            return {k: self.resolve(v, f"{where}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [self.resolve(item, f"{where}[{index}]") for index, item in enumerate(value)]
        return value


def resource(template: dict[str, Any], name: str, kind: str, source: Path) -> dict[str, Any]:
    found = (template.get("Resources") or {}).get(name)
    if not isinstance(found, dict):
        raise InfraError(f"{source}: resource {name} not found")
    if found.get("Type") != kind:
        raise InfraError(f"{source}: resource {name} is {found.get('Type')}, expected {kind}")
    return found.get("Properties") or {}


def _as_bool(value: Any, where: str) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise InfraError(f"{where}: expected a boolean, got {value!r}")


def _as_int(value: Any, where: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as err:
        raise InfraError(f"{where}: expected a number, got {value!r}") from err


def _only(props: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(set(props) - allowed)
    if unknown:
        raise InfraError(
            f"{where}: local_infra.py does not know how to apply {', '.join(unknown)}; "
            "teach scripts/local_infra.py or drop it"
        )


# ------------------------------------------------------- CloudFormation -> API shapes


def _required(props: dict[str, Any], key: str, where: str) -> Any:
    if key not in props:
        raise InfraError(f"{where}: {key} is missing; the local stack applies exactly what the template sets")
    return props[key]


def cors_from_cfn(cfn: dict[str, Any]) -> dict[str, Any]:
    rules = []
    for index, rule in enumerate(cfn.get("CorsRules") or []):
        where = f"{BUCKET_RESOURCE}.CorsConfiguration.CorsRules[{index}]"
        _only(rule, {"AllowedHeaders", "AllowedMethods", "AllowedOrigins", "ExposedHeaders", "MaxAge"}, where)
        api: dict[str, Any] = {key: [str(v) for v in rule[key]] for key in ("AllowedHeaders", "AllowedMethods", "AllowedOrigins") if key in rule}
        if "ExposedHeaders" in rule:
            api["ExposeHeaders"] = [str(v) for v in rule["ExposedHeaders"]]
        if "MaxAge" in rule:
            api["MaxAgeSeconds"] = _as_int(rule["MaxAge"], f"{where}.MaxAge")
        rules.append(api)
    return {"CORSRules": rules}


def lifecycle_from_cfn(cfn: dict[str, Any]) -> dict[str, Any]:
    rules = []
    for index, rule in enumerate(cfn.get("Rules") or []):
        where = f"{BUCKET_RESOURCE}.LifecycleConfiguration.Rules[{index}]"
        _only(rule, {"Id", "Status", "Prefix", "ExpirationInDays", "AbortIncompleteMultipartUpload"}, where)
        api: dict[str, Any] = {
            "Status": str(rule.get("Status", "Enabled")),
            "Filter": {"Prefix": str(rule.get("Prefix", ""))},
        }
        if "Id" in rule:
            api["ID"] = str(rule["Id"])
        if "ExpirationInDays" in rule:
            api["Expiration"] = {"Days": _as_int(rule["ExpirationInDays"], f"{where}.ExpirationInDays")}
        if "AbortIncompleteMultipartUpload" in rule:
            days = rule["AbortIncompleteMultipartUpload"].get("DaysAfterInitiation")
            api["AbortIncompleteMultipartUpload"] = {
                "DaysAfterInitiation": _as_int(days, f"{where}.AbortIncompleteMultipartUpload")
            }
        rules.append(api)
    return {"Rules": rules}


def public_access_block_from_cfn(cfn: dict[str, Any]) -> dict[str, Any]:
    where = f"{BUCKET_RESOURCE}.PublicAccessBlockConfiguration"
    keys = ("BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets")
    _only(cfn, set(keys), where)
    return {key: _as_bool(cfn.get(key, False), f"{where}.{key}") for key in keys}


def encryption_from_cfn(cfn: dict[str, Any]) -> dict[str, Any]:
    rules = []
    for index, rule in enumerate(cfn.get("ServerSideEncryptionConfiguration") or []):
        where = f"{BUCKET_RESOURCE}.BucketEncryption.ServerSideEncryptionConfiguration[{index}]"
        _only(rule, {"ServerSideEncryptionByDefault"}, where)
        default = _required(rule, "ServerSideEncryptionByDefault", where)
        _only(default, {"SSEAlgorithm"}, f"{where}.ServerSideEncryptionByDefault")
        rules.append({"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": str(default["SSEAlgorithm"])}})
    return {"Rules": rules}


def ownership_from_cfn(cfn: dict[str, Any]) -> dict[str, Any]:
    return {"Rules": [{"ObjectOwnership": str(r["ObjectOwnership"])} for r in cfn.get("Rules") or []]}


def _key_schema(items: list[dict[str, Any]]) -> list[dict[str, str]]:
    return [{"AttributeName": str(k["AttributeName"]), "KeyType": str(k["KeyType"])} for k in items]


def _projection(cfn: dict[str, Any] | None) -> dict[str, Any]:
    cfn = cfn or {}
    api: dict[str, Any] = {"ProjectionType": str(cfn.get("ProjectionType", "KEYS_ONLY"))}
    if cfn.get("NonKeyAttributes"):
        api["NonKeyAttributes"] = [str(a) for a in cfn["NonKeyAttributes"]]
    return api


def table_from_cfn(props: dict[str, Any]) -> dict[str, Any]:
    """What create_table needs plus the TTL, in API shapes (on-demand billing only)."""
    _only(
        props,
        {"AttributeDefinitions", "KeySchema", "BillingMode", "GlobalSecondaryIndexes", "TimeToLiveSpecification"},
        TABLE_RESOURCE,
    )
    if props.get("BillingMode") != "PAY_PER_REQUEST":
        raise InfraError(f"{TABLE_RESOURCE}.BillingMode: only PAY_PER_REQUEST is applied locally")
    ttl = _required(props, "TimeToLiveSpecification", TABLE_RESOURCE)
    if not _as_bool(ttl.get("Enabled", False), f"{TABLE_RESOURCE}.TimeToLiveSpecification.Enabled"):
        raise InfraError(f"{TABLE_RESOURCE}.TimeToLiveSpecification: only an enabled TTL is applied locally")
    return {
        "AttributeDefinitions": [
            {"AttributeName": str(a["AttributeName"]), "AttributeType": str(a["AttributeType"])}
            for a in props.get("AttributeDefinitions") or []
        ],
        "KeySchema": _key_schema(props.get("KeySchema") or []),
        "BillingMode": "PAY_PER_REQUEST",
        "GlobalSecondaryIndexes": [
            {
                "IndexName": str(gsi["IndexName"]),
                "KeySchema": _key_schema(gsi["KeySchema"]),
                "Projection": _projection(gsi.get("Projection")),
            }
            for gsi in props.get("GlobalSecondaryIndexes") or []
        ],
        "TimeToLive": {"AttributeName": str(ttl["AttributeName"]), "Enabled": True},
    }


BUCKET_SETTINGS = (
    "CorsConfiguration",
    "LifecycleConfiguration",
    "PublicAccessBlockConfiguration",
    "BucketEncryption",
    "OwnershipControls",
)


class Desired:
    """The local stack as template.yaml describes it, in API shapes."""

    def __init__(self, path: Path) -> None:
        template = load_template(path)
        resolver = Resolver(template, path)
        raw_bucket = resource(template, BUCKET_RESOURCE, "AWS::S3::Bucket", path)
        raw_table = resource(template, TABLE_RESOURCE, "AWS::DynamoDB::Table", path)
        # Only the properties the local stack uses are resolved, so the rest of the
        # resources may use any intrinsic function.
        bucket = {
            key: resolver.resolve(_required(raw_bucket, key, BUCKET_RESOURCE), f"{BUCKET_RESOURCE}.{key}")
            for key in BUCKET_SETTINGS
        }
        table = {
            key: resolver.resolve(raw_table[key], f"{TABLE_RESOURCE}.{key}")
            for key in ("AttributeDefinitions", "KeySchema", "BillingMode", "TimeToLiveSpecification", "GlobalSecondaryIndexes")
            if key in raw_table
        }
        self.source = path
        self.cors = cors_from_cfn(bucket["CorsConfiguration"])
        self.lifecycle = lifecycle_from_cfn(bucket["LifecycleConfiguration"])
        self.public_access_block = public_access_block_from_cfn(bucket["PublicAccessBlockConfiguration"])
        self.encryption = encryption_from_cfn(bucket["BucketEncryption"])
        self.ownership = ownership_from_cfn(bucket["OwnershipControls"])
        self.table = table_from_cfn(table)


# ------------------------------------------------------------------------- clients


class Settings:
    def __init__(self) -> None:
        general = os.environ.get("AWS_ENDPOINT_URL") or "http://127.0.0.1:4566"
        self.s3_endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or general
        self.dynamodb_endpoint = os.environ.get("AWS_ENDPOINT_URL_DYNAMODB") or general
        self.endpoint = (
            general if self.s3_endpoint == self.dynamodb_endpoint
            else f"{self.s3_endpoint} (S3) and {self.dynamodb_endpoint} (DynamoDB)"
        )
        self.region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION") or "us-east-1"
        self.bucket = os.environ.get("FILES_BUCKET") or "file-service-local"
        self.table = os.environ.get("FILES_TABLE") or "file-service-local"


def clients(settings: Settings) -> tuple[Any, Any]:
    import boto3
    from botocore.config import Config

    config = Config(
        retries={"max_attempts": 3, "mode": "standard"},
        connect_timeout=5,
        read_timeout=30,
        s3={"addressing_style": "path"},
    )
    common = dict(
        region_name=settings.region,
        aws_access_key_id="test",
        aws_secret_access_key="test",
        config=config,
    )
    return (
        boto3.client("s3", endpoint_url=settings.s3_endpoint, **common),
        boto3.client("dynamodb", endpoint_url=settings.dynamodb_endpoint, **common),
    )


def _error_code(err: Exception) -> str:
    response = getattr(err, "response", None) or {}
    return str((response.get("Error") or {}).get("Code", ""))


def _absent(call: Callable[[], Any], *codes: str) -> Any:
    """Runs `call`; None when it fails with one of `codes` (configuration not set)."""
    from botocore.exceptions import ClientError

    try:
        return call()
    except ClientError as err:
        if _error_code(err) in codes:
            return None
        raise


# ---------------------------------------------------------------------------- apply


def bucket_exists(s3: Any, name: str) -> bool:
    from botocore.exceptions import ClientError

    try:
        s3.head_bucket(Bucket=name)
        return True
    except ClientError as err:
        if _error_code(err) in ("404", "NoSuchBucket", "NotFound"):
            return False
        raise


def apply_bucket(s3: Any, settings: Settings, desired: Desired) -> list[str]:
    done = []
    name = settings.bucket
    if not bucket_exists(s3, name):
        kwargs: dict[str, Any] = {"Bucket": name}
        if settings.region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": settings.region}
        s3.create_bucket(**kwargs)
        done.append(f"created bucket {name}")
    s3.put_bucket_ownership_controls(Bucket=name, OwnershipControls=desired.ownership)
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=desired.public_access_block)
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration=desired.encryption)
    s3.put_bucket_cors(Bucket=name, CORSConfiguration=desired.cors)
    s3.put_bucket_lifecycle_configuration(Bucket=name, LifecycleConfiguration=desired.lifecycle)
    return done


def describe_table(dynamodb: Any, name: str) -> dict[str, Any] | None:
    found = _absent(lambda: dynamodb.describe_table(TableName=name), "ResourceNotFoundException")
    return found["Table"] if found else None


def wait_active(dynamodb: Any, name: str, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        table = describe_table(dynamodb, name)
        if table and table.get("TableStatus") == "ACTIVE" and all(
            gsi.get("IndexStatus", "ACTIVE") == "ACTIVE" for gsi in table.get("GlobalSecondaryIndexes") or []
        ):
            return table
        if time.monotonic() > deadline:
            raise InfraError(f"table {name} did not become ACTIVE within {timeout:.0f} s")
        time.sleep(0.5)


def create_table(dynamodb: Any, name: str, spec: dict[str, Any]) -> None:
    kwargs: dict[str, Any] = {key: spec[key] for key in ("AttributeDefinitions", "KeySchema", "BillingMode")}
    if spec["GlobalSecondaryIndexes"]:
        kwargs["GlobalSecondaryIndexes"] = spec["GlobalSecondaryIndexes"]
    dynamodb.create_table(TableName=name, **kwargs)


def apply_table(dynamodb: Any, settings: Settings, desired: Desired) -> list[str]:
    done = []
    name = settings.table
    spec = desired.table
    table = describe_table(dynamodb, name)
    if table is not None:
        differences = diff(table_shape(spec), table_shape_actual(table))
        if differences:
            if os.environ.get("LOCAL_INFRA_RECREATE_TABLE") != "1":
                raise InfraError(
                    f"table {name} exists with other keys or indexes than {desired.source.name}:\n"
                    + "\n".join(f"  {d}" for d in differences)
                    + "\nrerun with LOCAL_INFRA_RECREATE_TABLE=1 to delete and recreate it (its items are lost)"
                )
            dynamodb.delete_table(TableName=name)
            deadline = time.monotonic() + 60
            while describe_table(dynamodb, name) is not None:
                if time.monotonic() > deadline:
                    raise InfraError(f"table {name} was not deleted within 60 s")
                time.sleep(0.5)
            table = None
            done.append(f"deleted table {name} (keys or indexes changed)")
    if table is None:
        create_table(dynamodb, name, spec)
        done.append(f"created table {name}")
    wait_active(dynamodb, name)
    if ttl_actual(dynamodb, name) != spec["TimeToLive"]:
        dynamodb.update_time_to_live(TableName=name, TimeToLiveSpecification=spec["TimeToLive"])
    return done


# ---------------------------------------------------------------------------- check


def ttl_actual(dynamodb: Any, name: str) -> dict[str, Any] | None:
    description = dynamodb.describe_time_to_live(TableName=name).get("TimeToLiveDescription") or {}
    status = description.get("TimeToLiveStatus", "DISABLED")
    if status in ("ENABLED", "ENABLING"):
        return {"AttributeName": description.get("AttributeName"), "Enabled": True}
    return None


def table_shape(spec: dict[str, Any]) -> dict[str, Any]:
    """The comparable part of a table spec (keys, billing, indexes)."""
    return {
        "AttributeDefinitions": {a["AttributeName"]: a["AttributeType"] for a in spec["AttributeDefinitions"]},
        "KeySchema": spec["KeySchema"],
        "BillingMode": spec["BillingMode"],
        "GlobalSecondaryIndexes": {
            g["IndexName"]: {"KeySchema": g["KeySchema"], "Projection": _projection(g["Projection"])}
            for g in spec["GlobalSecondaryIndexes"]
        },
    }


def table_shape_actual(table: dict[str, Any]) -> dict[str, Any]:
    billing = (table.get("BillingModeSummary") or {}).get("BillingMode") or "PROVISIONED"
    return table_shape(
        {
            "AttributeDefinitions": [
                {"AttributeName": a["AttributeName"], "AttributeType": a["AttributeType"]}
                for a in table.get("AttributeDefinitions") or []
            ],
            "KeySchema": _key_schema(table.get("KeySchema") or []),
            "BillingMode": billing,
            "GlobalSecondaryIndexes": [
                {
                    "IndexName": g["IndexName"],
                    "KeySchema": _key_schema(g["KeySchema"]),
                    "Projection": g.get("Projection") or {},
                }
                for g in table.get("GlobalSecondaryIndexes") or []
            ],
        }
    )


_DEFAULTISH = (None, False, "", [], {})


def normalize(value: Any) -> Any:
    """Comparable form: lists of plain strings sorted (their order carries no meaning in
    these configurations), keys whose value is a default (False, empty) dropped."""
    if isinstance(value, dict):
        return {k: normalize(v) for k, v in value.items() if v not in _DEFAULTISH}
    if isinstance(value, list):
        items = [normalize(v) for v in value]
        if all(isinstance(v, str) for v in items):
            return sorted(items)
        return items
    return value


def diff(expected: Any, actual: Any, path: str = "") -> list[str]:
    expected, actual = normalize(expected), normalize(actual)
    out: list[str] = []
    _diff(expected, actual, path, out)
    return out


def _show(value: Any) -> str:
    return "(absent)" if value is None else json.dumps(value, sort_keys=True, default=str)


def _diff(expected: Any, actual: Any, path: str, out: list[str]) -> None:
    if isinstance(expected, dict) and isinstance(actual, dict):
        for key in sorted(set(expected) | set(actual)):
            _diff(expected.get(key), actual.get(key), f"{path}.{key}" if path else key, out)
    elif isinstance(expected, list) and isinstance(actual, list) and not all(
        isinstance(v, str) for v in expected + actual
    ):
        for index in range(max(len(expected), len(actual))):
            _diff(
                expected[index] if index < len(expected) else None,
                actual[index] if index < len(actual) else None,
                f"{path}[{index}]",
                out,
            )
    elif expected != actual:
        out.append(f"{path or '(root)'}: template {_show(expected)}, endpoint {_show(actual)}")


def lifecycle_actual(s3: Any, name: str) -> dict[str, Any] | None:
    found = _absent(
        lambda: s3.get_bucket_lifecycle_configuration(Bucket=name), "NoSuchLifecycleConfiguration"
    )
    if not found:
        return None
    rules = []
    for rule in found.get("Rules") or []:
        rule = {k: v for k, v in rule.items() if k != "ResponseMetadata"}
        # Older rule shape (top-level Prefix, no Filter) means the same as Filter.Prefix.
        if "Filter" not in rule and "Prefix" in rule:
            rule["Filter"] = {"Prefix": rule.pop("Prefix")}
        elif "Prefix" in rule and rule.get("Prefix") == (rule.get("Filter") or {}).get("Prefix"):
            rule.pop("Prefix")
        rules.append(rule)
    return {"Rules": rules}


def check(s3: Any, dynamodb: Any, settings: Settings, desired: Desired) -> list[str]:
    problems: list[str] = []
    bucket = settings.bucket
    if not bucket_exists(s3, bucket):
        problems.append(f"bucket {bucket}: does not exist (run: make emulator)")
    else:
        actual_cors = _absent(lambda: s3.get_bucket_cors(Bucket=bucket), "NoSuchCORSConfiguration")
        actual_pab = _absent(
            lambda: s3.get_public_access_block(Bucket=bucket), "NoSuchPublicAccessBlockConfiguration"
        )
        actual_enc = _absent(
            lambda: s3.get_bucket_encryption(Bucket=bucket), "ServerSideEncryptionConfigurationNotFoundError"
        )
        actual_own = _absent(
            lambda: s3.get_bucket_ownership_controls(Bucket=bucket), "OwnershipControlsNotFoundError"
        )
        pairs = [
            ("CORS", desired.cors, {"CORSRules": actual_cors["CORSRules"]} if actual_cors else None),
            ("lifecycle", desired.lifecycle, lifecycle_actual(s3, bucket)),
            (
                "public access block",
                desired.public_access_block,
                actual_pab["PublicAccessBlockConfiguration"] if actual_pab else None,
            ),
            (
                "encryption",
                desired.encryption,
                actual_enc["ServerSideEncryptionConfiguration"] if actual_enc else None,
            ),
            ("ownership controls", desired.ownership, actual_own["OwnershipControls"] if actual_own else None),
        ]
        for label, expected, actual in pairs:
            for line in diff(expected, actual):
                problems.append(f"bucket {bucket} {label}: {line}")
    table = describe_table(dynamodb, settings.table)
    if table is None:
        problems.append(f"table {settings.table}: does not exist (run: make emulator)")
    else:
        for line in diff(table_shape(desired.table), table_shape_actual(table)):
            problems.append(f"table {settings.table}: {line}")
        for line in diff(desired.table["TimeToLive"], ttl_actual(dynamodb, settings.table)):
            problems.append(f"table {settings.table} TTL: {line}")
    return problems


# ----------------------------------------------------------------------------- main


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in ("apply", "check"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    command = argv[1]
    settings = Settings()
    try:
        desired = Desired(template_path())
        from botocore.exceptions import BotoCoreError, ClientError

        s3, dynamodb = clients(settings)
        try:
            if command == "apply":
                done = apply_bucket(s3, settings, desired) + apply_table(dynamodb, settings, desired)
                summary = "; ".join(done) if done else "already present"
                print(
                    f"local_infra: bucket {settings.bucket} and table {settings.table} configured from "
                    f"{desired.source.name} at {settings.endpoint} ({summary})"
                )
            # After apply too: what was applied must read back as the template says.
            problems = check(s3, dynamodb, settings, desired)
        except (BotoCoreError, ClientError) as err:
            raise InfraError(f"{settings.endpoint}: {err}") from err
    except InfraError as err:
        print(f"local_infra {command}: {err}", file=sys.stderr)
        return 1
    if problems:
        print(
            f"local_infra {command}: the stack at {settings.endpoint} differs from {desired.source} "
            f"({len(problems)} difference{'s' if len(problems) != 1 else ''}; fix with: make emulator):",
            file=sys.stderr,
        )
        for line in problems:
            print(f"  {line}", file=sys.stderr)
        return 1
    print(
        f"local_infra: bucket {settings.bucket} and table {settings.table} at {settings.endpoint} "
        f"match {desired.source.name}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
