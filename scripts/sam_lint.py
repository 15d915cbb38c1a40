#!/usr/bin/env python3
"""Lints template.yaml twice: as written (cfn-lint's SAM schemas) and after the SAM
transform that CloudFormation runs on deploy (aws-sam-translator), so errors that only
the generated resources show (an invalid event, a circular dependency between the
bucket's notifications and a function) fail here rather than in a deploy.

    sam_lint.py [--transformed-only | --print] [TEMPLATE]    default: $TEMPLATE_PATH or template.yaml

Exit status: 0 when both are clean, else non-zero. No AWS access is needed: CodeUri is
replaced by a placeholder S3 location, parameters without a Default get sample values.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main(argv: list[str]) -> int:
    args = argv[1:]
    transformed_only = "--transformed-only" in args
    # --print: write the transformed template to stdout (for tests), lint nothing.
    print_only = "--print" in args
    args = [a for a in args if a not in ("--transformed-only", "--print")]
    source = Path(args[0] if args else os.environ.get("TEMPLATE_PATH") or ROOT / "template.yaml")
    cfn_lint = [str(Path(sys.executable).with_name("cfn-lint"))]

    if not transformed_only and not print_only:
        first = subprocess.run([*cfn_lint, "--", str(source)])
        if first.returncode != 0:
            return first.returncode

    # Imported here so the first pass works without the translator.
    from samtranslator.model.exceptions import InvalidDocumentException
    from samtranslator.translator.transform import transform
    from samtranslator.yaml_helper import yaml_parse

    os.environ.setdefault("AWS_DEFAULT_REGION", "us-east-1")
    template = yaml_parse(source.read_text(encoding="utf-8"))
    for resource in (template.get("Resources") or {}).values():
        props = resource.get("Properties") or {}
        if resource.get("Type") == "AWS::Serverless::Function" and isinstance(props.get("CodeUri"), str):
            props["CodeUri"] = "s3://sam-lint-placeholder/code.zip"
    samples = {"String": "https://issuer.example.com/", "CommaDelimitedList": "sample", "Number": "1"}
    parameters = {
        name: samples.get(str(spec.get("Type")), "sample")
        for name, spec in (template.get("Parameters") or {}).items()
        if isinstance(spec, dict) and "Default" not in spec
    }

    class NoManagedPolicies:
        def load(self) -> dict[str, str]:
            return {}

    try:
        translated = transform(template, parameters, NoManagedPolicies())
    except InvalidDocumentException as err:
        print(f"{source}: the SAM transform fails:", file=sys.stderr)
        for cause in err.causes:
            print(f"  {cause.message}", file=sys.stderr)
        return 1

    if print_only:
        print(json.dumps(translated, default=str))
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / f"{source.stem}.transformed.json"
        out.write_text(json.dumps(translated, indent=1, default=str), encoding="utf-8")
        second = subprocess.run([*cfn_lint, "--", str(out)])
    if second.returncode != 0:
        print(f"{source}: the template after the SAM transform has the problems above", file=sys.stderr)
    return second.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv))
