#!/usr/bin/env python3
"""Validates a FlinkDeployment manifest against the openAPIV3Schema of the operator's CRD.

    validate.py MANIFEST.yaml CRD.yml

Kubernetes prunes fields a structural schema does not declare; here an undeclared field is an
error instead (it would be silently dropped by the API server, so it is almost always a typo).
One adjustment, printed when used: the newest CRD on Maven Central (operator 1.10) lists
flinkVersion values up to v1_20; operator releases that run Flink 2 accept v2_x, so v2_0..v2_2
are added to that enum.
"""
import sys

import jsonschema
import yaml

FLINK2 = ["v2_0", "v2_1", "v2_2"]


def close(schema):
    """Undeclared properties become errors, except where the CRD keeps unknown fields."""
    if isinstance(schema, dict):
        if (schema.get("type") == "object" and "properties" in schema and "additionalProperties" not in schema
                and not schema.get("x-kubernetes-preserve-unknown-fields")):
            schema["additionalProperties"] = False
        for v in schema.values():
            close(v)
    elif isinstance(schema, list):
        for v in schema:
            close(v)
    return schema


def main(manifest_path, crd_path):
    manifest = yaml.safe_load(open(manifest_path, encoding="utf-8"))
    crd = yaml.safe_load(open(crd_path, encoding="utf-8"))
    group, version = manifest["apiVersion"].split("/")
    if manifest.get("kind") != crd["spec"]["names"]["kind"] or group != crd["spec"]["group"]:
        sys.exit(f"{manifest_path}: {manifest.get('kind')} {manifest['apiVersion']} is not what {crd_path} defines")
    versions = {v["name"]: v for v in crd["spec"]["versions"]}
    if version not in versions:
        sys.exit(f"{manifest_path}: {crd_path} has no version {version} (has {sorted(versions)})")
    schema = versions[version]["schema"]["openAPIV3Schema"]
    close(schema["properties"]["spec"])  # apiVersion, kind and metadata are the API server's, not the CRD's
    enum = schema["properties"]["spec"]["properties"]["flinkVersion"]["enum"]
    if manifest.get("spec", {}).get("flinkVersion") in FLINK2 and manifest["spec"]["flinkVersion"] not in enum:
        print(f"validate: this CRD predates Flink 2; accepting flinkVersion {', '.join(FLINK2)} as newer operators do")
        enum.extend(FLINK2)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(manifest), key=lambda e: list(e.absolute_path))
    for e in errors:
        path = ".".join(str(p) for p in e.absolute_path) or "(root)"
        print(f"{manifest_path}: {path}: {e.message}", file=sys.stderr)
    if errors:
        return 1
    print(f"validate: {manifest_path} conforms to the {crd['spec']['names']['kind']} {version} schema of {crd_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2]))
