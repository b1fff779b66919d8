"""Validate HTTP request bodies against the published Azure REST API contracts (Swagger 2.0).

The recipe of ../shared/contracts/README.md: every swagger file under the contracts folder is loaded with
`x-ms-*`, `discriminator` and `example` keys removed and registered by its file:// URI in a
`referencing.Registry`, so relative `$ref`s between files resolve offline. Swagger is not quite JSON Schema:

- a polymorphic base (one with `discriminator`) is replaced by a switch on the discriminator property that
  validates the payload against the subtype whose `x-ms-discriminator-value` (or definition name) matches;
  subtypes refer to a copy of the base (`<Base>__base`) that has no `additionalProperties`;
- `readOnly` properties are dropped from the schemas (a server ignores or rejects them on PUT).

API (used by the catalog and monitoring test servers):
    validate_body(spec_relpath, definition, body) -> list[str]      # [] means valid
    find_operation(spec_relpath, method, path) -> (operation, body_schema | None)
    validate_request(spec_relpath, method, path, body) -> list[str]
    validate_response(spec_relpath, method, path, status, body) -> list[str]   # readOnly properties kept
`spec_relpath` is relative to contracts/azure-rest-api-specs/specification (helpers.CONTRACTS).
"""

from __future__ import annotations

import copy
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from helpers import CONTRACTS
from jsonschema import Draft4Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4

_DROPPED = {"discriminator", "example"}
_SWITCH = "x-smartflow-discriminator"  # kept on the generated switch schemas only, to explain errors


def _raw(relpath: str) -> dict[str, Any]:
    return json.loads((CONTRACTS / relpath).read_text(encoding="utf-8"))


def _clean(node: Any, keep_readonly: bool = False) -> Any:
    """Drop x-ms-*, discriminator and example keys, and readOnly properties (for request bodies),
    recursively."""
    if isinstance(node, list):
        return [_clean(x, keep_readonly) for x in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-ms-") or key in _DROPPED:
            continue
        out[key] = _clean(value, keep_readonly)
    props = out.get("properties")
    if not keep_readonly and isinstance(props, dict) and all(isinstance(v, dict) for v in props.values()):
        readonly = {k for k, v in props.items() if v.get("readOnly") is True}
        if readonly:
            out["properties"] = {k: v for k, v in props.items() if k not in readonly}
            if isinstance(out.get("required"), list):
                out["required"] = [r for r in out["required"] if r not in readonly]
    return out


def _all_of_refs(defn: dict[str, Any]) -> list[str]:
    return [x["$ref"] for x in defn.get("allOf", []) if isinstance(x, dict) and "$ref" in x]


def _polymorphism(doc: dict[str, Any], keep_readonly: bool = False) -> dict[str, Any]:
    """Rewrite the definitions of one swagger file so discriminated bases validate by subtype."""
    raw_defs: dict[str, Any] = doc.get("definitions", {})
    defs = {name: _clean(d, keep_readonly) for name, d in raw_defs.items()}
    bases = {
        name: d["discriminator"] for name, d in raw_defs.items() if isinstance(d.get("discriminator"), str)
    }
    for base, prop in bases.items():
        ref = f"#/definitions/{base}"
        subtypes: dict[str, str] = {}
        # direct and indirect subtypes declared in this file
        frontier = {ref}
        seen: set[str] = set()
        while frontier:
            nxt: set[str] = set()
            for name, d in raw_defs.items():
                if name in seen or name == base:
                    continue
                if frontier & set(_all_of_refs(d)):
                    seen.add(name)
                    nxt.add(f"#/definitions/{name}")
                    subtypes[d.get("x-ms-discriminator-value", name)] = name
            frontier = nxt
        plain = dict(defs[base])
        plain.pop("additionalProperties", None)
        defs[f"{base}__base"] = plain
        for name in seen:  # subtypes extend the plain base, never the switch (no recursion)
            defs[name]["allOf"] = [
                {"$ref": f"#/definitions/{base}__base"} if x.get("$ref") == ref else x
                for x in defs[name].get("allOf", [])
            ]
        values = sorted(subtypes)
        branches: list[dict[str, Any]] = [
            {
                "properties": {prop: {"enum": [v]}},
                "required": [prop],
                "allOf": [{"$ref": f"#/definitions/{s}"}],
            }
            for v, s in sorted(subtypes.items())
        ]
        branches.append(
            {
                "properties": {prop: {"not": {"enum": values}}},
                "allOf": [{"$ref": f"#/definitions/{base}__base"}],
            }
        )
        defs[base] = {"anyOf": branches, _SWITCH: {"property": prop, "values": values}}
    out = _clean({k: v for k, v in doc.items() if k != "definitions"}, keep_readonly)
    out["definitions"] = defs
    return out


@lru_cache(maxsize=2)
def _registry(keep_readonly: bool = False) -> tuple[Registry, dict[str, dict[str, Any]]]:
    docs: dict[str, dict[str, Any]] = {}
    for path in sorted(CONTRACTS.rglob("*.json")):
        if "examples" in path.parts:
            continue
        raw = json.loads(path.read_text(encoding="utf-8"))
        docs[path.resolve().as_uri()] = _polymorphism(raw, keep_readonly)
    registry: Registry = Registry().with_resources(
        (uri, Resource.from_contents(doc, default_specification=DRAFT4)) for uri, doc in docs.items()
    )
    return registry, docs


def _uri(spec_relpath: str) -> str:
    path = (CONTRACTS / spec_relpath).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"no contract {spec_relpath} under {CONTRACTS}")
    return path.as_uri()


def _explain(err: ValidationError, out: list[str]) -> None:
    """One message per leaf error; a discriminator switch reports only its matching subtype's errors."""
    switch = err.schema.get(_SWITCH) if isinstance(err.schema, dict) else None
    if err.validator == "anyOf" and switch and isinstance(err.instance, dict):
        value = err.instance.get(switch["property"])
        index = switch["values"].index(value) if value in switch["values"] else len(switch["values"])
        subs = [e for e in err.context or [] if e.schema_path and e.schema_path[0] == index]
        if subs:
            for sub in subs:
                _explain(sub, out)
            return
    where = "/".join(str(p) for p in err.absolute_path) or "<body>"
    out.append(f"{where}: {err.message}")


def validate_schema(
    spec_relpath: str, schema: dict[str, Any], body: Any, keep_readonly: bool = False
) -> list[str]:
    """Validate `body` against a schema whose `$ref`s are relative to `spec_relpath` (`keep_readonly` for
    responses, which carry the read-only properties)."""
    registry, _ = _registry(keep_readonly)
    base = _uri(spec_relpath)
    if set(schema) == {"$ref"}:  # Draft 4 ignores every sibling of $ref, `id` included: resolve it here
        ref = schema["$ref"]
        rooted = {"$ref": base + ref if ref.startswith("#") else urljoin(base, ref)}
    else:  # no `id` here: it would shadow the spec file in the registry; root the inner refs instead
        rooted = _rooted(schema, base)
    validator = Draft4Validator(rooted, registry=registry)
    out: list[str] = []
    for err in sorted(validator.iter_errors(body), key=lambda e: list(map(str, e.absolute_path))):
        _explain(err, out)
    return out


def _rooted(node: Any, base: str) -> Any:
    """`node` with every local `$ref` ("#/…") made absolute against `base`."""
    if isinstance(node, dict):
        return {
            k: (base + v if k == "$ref" and isinstance(v, str) and v.startswith("#") else _rooted(v, base))
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rooted(v, base) for v in node]
    return node


def validate_body(spec_relpath: str, definition: str, body: Any) -> list[str]:
    """Errors of `body` against a definition ('AtlasGlossaryTerm') or a '#/…' pointer; [] = valid."""
    registry, docs = _registry()
    ref = definition if definition.startswith("#") else f"#/definitions/{definition}"
    doc = docs[_uri(spec_relpath)]
    if ref.startswith("#/definitions/") and ref.split("/")[-1] not in doc.get("definitions", {}):
        raise KeyError(f"{spec_relpath} has no definition {definition}")
    return validate_schema(spec_relpath, {"$ref": ref}, body)


def _template_regex(template: str) -> re.Pattern[str]:
    parts = re.split(r"(\{[^}]+\})", template)
    body = "".join("[^/]+" if p.startswith("{") else re.escape(p) for p in parts)
    return re.compile(rf"(?:/.*)?{body}/?")


def _literal_weight(template: str) -> int:
    return len(re.sub(r"\{[^}]+\}", "", template))


def find_operation(spec_relpath: str, method: str, path: str) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The swagger operation for METHOD PATH (query string ignored; any base-path prefix allowed) and
    its body schema (`{"$ref": "#/…"}` pointer into the spec, or None when it takes no body)."""
    raw = _raw(spec_relpath)
    path = path.split("?", 1)[0]
    candidates = []
    for template, ops in raw.get("paths", {}).items():
        op = ops.get(method.lower())
        if op is not None and _template_regex(template).fullmatch(path):
            candidates.append((_literal_weight(template), template, op))
    if not candidates:
        raise LookupError(f"{spec_relpath}: no operation {method.upper()} {path}")
    _, template, op = max(candidates, key=lambda c: c[0])
    pointer_base = "#/paths/" + template.replace("~", "~0").replace("/", "~1") + "/" + method.lower()
    for i, param in enumerate(op.get("parameters", [])):
        resolved, where = param, f"{pointer_base}/parameters/{i}"
        if "$ref" in param and param["$ref"].startswith("#/parameters/"):
            name = param["$ref"].split("/")[-1]
            resolved, where = raw["parameters"][name], f"#/parameters/{name}"
        if resolved.get("in") == "body":
            return op, {"$ref": f"{where}/schema"}
    return op, None


def validate_request(spec_relpath: str, method: str, path: str, body: Any) -> list[str]:
    """Errors of a request body against the body schema of the matching operation; [] = valid."""
    _, schema = find_operation(spec_relpath, method, path)
    if schema is None:
        return [] if body in (None, b"", "") else [f"{method.upper()} {path} takes no body"]
    return validate_schema(spec_relpath, schema, body)


def example_body(example_relpath: str, param: str | None = None) -> Any:
    """The request body of a contract example file (its one `in: body` parameter, or `param`)."""
    data = _raw(example_relpath)["parameters"]
    if param is not None:
        return copy.deepcopy(data[param])
    skip = {"Endpoint", "endpoint", "api-version", "subscriptionId", "resourceGroupName"}
    bodies = [v for k, v in data.items() if k not in skip and isinstance(v, dict | list)]
    if len(bodies) != 1:
        raise LookupError(f"{example_relpath}: cannot tell the body among {sorted(data)}")
    return copy.deepcopy(bodies[0])


def contracts_root() -> Path:
    return CONTRACTS


def validate_response(spec_relpath: str, method: str, path: str, status: int, body: Any) -> list[str]:
    """Errors of a response body against the matching operation's schema for `status` (else `default`),
    read-only properties included; [] = valid."""
    op, _ = find_operation(spec_relpath, method, path)
    responses = op.get("responses", {})
    answer = responses.get(str(status)) or responses.get("default")
    if answer is None:
        return [f"{method.upper()} {path}: status {status} is not a documented response"]
    schema = answer.get("schema")
    if schema is None:
        return [] if body in (None, b"", "") else [f"{method.upper()} {path} {status} has no body"]
    return validate_schema(spec_relpath, schema, body, keep_readonly=True)
