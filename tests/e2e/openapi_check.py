#!/usr/bin/python3
"""Checks recorded HTTP exchanges against the OpenAPI document (www/openapi.json).

Usage: openapi_check.py OPENAPI.json MANIFEST.tsv

First the document itself: OpenAPI 3.1.0, every $ref resolves, every schema is a
valid JSON Schema (draft 2020-12), every example matches its schema, path
parameters are declared, operationIds are unique.

Then each exchange of the manifest, one per line, tab-separated:

    name  method  target  expected-status  folder

where target is the request path and query, and folder holds `headers` (curl -D),
`body` (curl -o) and, for requests with a body, `request`.  A line whose method is
`-` is a check that already failed; its target is the reason.

An exchange is looked up in the document by path template, method, status and
media type:
  - the status must be the expected one and be listed for the operation (a 405
    for a method the path does not have uses the path's 405 response);
  - a path the document does not list must be a 404 matching
    components/responses/NotFound;
  - the Content-Type must be one the response lists, required headers must be
    present and match their schemas, and the body must match the schema;
  - a 200 store request's body must match the request schema, and a 400 with a
    `pointer` must come from a body that the request schema rejects too (the
    document is at least as strict as the service);
  - a problem's `parameter` must be a query parameter of the operation, and every
    query parameter of a 2xx request must be one;
  - GET /openapi.json must serve the file byte for byte.

Prints one line per check and finally "N passed, M failed"; exits 1 on any failure.
"""
import json
import os
import re
import sys
import urllib.parse

import jsonschema
from jsonschema import Draft202012Validator

METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
FORMAT_CHECKER = getattr(Draft202012Validator, "FORMAT_CHECKER", None) or jsonschema.FormatChecker()


class Checker:
    def __init__(self, spec_path):
        self.spec_path = spec_path
        with open(spec_path, "rb") as f:
            self.spec_bytes = f.read()
        self.spec = json.loads(self.spec_bytes)
        self.passed = 0
        self.failed = 0
        self.exercised = set()

    # -------------------------------------------------------------- reporting
    def ok(self, name):
        self.passed += 1
        print(f"ok   {name}")

    def fail(self, name, why):
        self.failed += 1
        print(f"FAIL {name}: {why}")

    # -------------------------------------------------------------- document
    def pointer(self, ref):
        """The object a local $ref names, or KeyError."""
        if not ref.startswith("#/"):
            raise KeyError(f"not a local reference: {ref}")
        node = self.spec
        for part in ref[2:].split("/"):
            part = part.replace("~1", "/").replace("~0", "~")
            node = node[int(part)] if isinstance(node, list) else node[part]
        return node

    def deref(self, obj):
        seen = 0
        while isinstance(obj, dict) and "$ref" in obj:
            obj = self.pointer(obj["$ref"])
            seen += 1
            if seen > 20:
                raise KeyError("reference loop")
        return obj

    def root_schema(self, schema):
        # Local references (#/components/...) resolve against this root, which
        # carries the document's components next to the schema under test.
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "components": self.spec.get("components", {}),
            "allOf": [schema],
        }

    def errors(self, schema, instance):
        v = Draft202012Validator(self.root_schema(schema), format_checker=FORMAT_CHECKER)
        errs = sorted(v.iter_errors(instance), key=lambda e: list(e.absolute_path))
        out = []
        for e in errs[:5]:
            where = "/" + "/".join(str(p) for p in e.absolute_path)
            out.append(f"at {where}: {e.message[:300]}")
        return out

    def walk(self, node, path=""):
        if isinstance(node, dict):
            yield path, node
            for k, v in node.items():
                yield from self.walk(v, f"{path}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from self.walk(v, f"{path}/{i}")

    def media_types(self):
        """(where, media type object) for every response and request body."""
        for p, item in self.spec.get("paths", {}).items():
            for m in METHODS:
                op = item.get(m)
                if not op:
                    continue
                rb = op.get("requestBody")
                if rb:
                    for ct, mt in self.deref(rb).get("content", {}).items():
                        yield f"{m.upper()} {p} request {ct}", mt
                for st, resp in op.get("responses", {}).items():
                    for ct, mt in self.deref(resp).get("content", {}).items():
                        yield f"{m.upper()} {p} {st} {ct}", mt

    def check_document(self):
        spec = self.spec
        if spec.get("openapi") == "3.1.0" and isinstance(spec.get("info"), dict) and spec.get("paths"):
            self.ok("document: OpenAPI 3.1.0 with info and paths")
        else:
            self.fail("document: OpenAPI 3.1.0 with info and paths", f"openapi is {spec.get('openapi')!r}")

        bad = []
        for where, node in self.walk(spec):
            ref = node.get("$ref")
            if isinstance(ref, str):
                try:
                    self.pointer(ref)
                except (KeyError, IndexError, ValueError) as e:
                    bad.append(f"{where}: {ref} ({e})")
        self.report("document: every $ref resolves", bad)

        schemas = [(f"components/schemas/{k}", s) for k, s in spec.get("components", {}).get("schemas", {}).items()]
        schemas += [(f"{w} schema", mt["schema"]) for w, mt in self.media_types() if "schema" in mt]
        for k, prm in spec.get("components", {}).get("parameters", {}).items():
            schemas.append((f"components/parameters/{k}", prm.get("schema", {})))
        for k, resp in spec.get("components", {}).get("responses", {}).items():
            for h, hdr in resp.get("headers", {}).items():
                schemas.append((f"components/responses/{k} header {h}", self.deref(hdr).get("schema", {})))
        bad = []
        for where, s in schemas:
            try:
                Draft202012Validator.check_schema(self.root_schema(s))
            except jsonschema.exceptions.SchemaError as e:
                bad.append(f"{where}: {e.message}")
        self.report(f"document: {len(schemas)} schemas are valid JSON Schema 2020-12", bad)

        bad, count = [], 0
        for where, mt in self.media_types():
            if "schema" not in mt:
                continue
            examples = []
            if "example" in mt:
                examples.append(("example", mt["example"]))
            for k, ex in mt.get("examples", {}).items():
                ex = self.deref(ex)
                if "value" in ex:
                    examples.append((k, ex["value"]))
            for k, value in examples:
                count += 1
                bad += [f"{where} example {k} {e}" for e in self.errors(mt["schema"], value)]
        for k, prm in spec.get("components", {}).get("parameters", {}).items():
            if "example" in prm:
                count += 1
                bad += [f"parameter {k} example {e}" for e in self.errors(prm["schema"], prm["example"])]
        self.report(f"document: {count} examples match their schemas", bad)

        bad, ids = [], {}
        for p, item in spec.get("paths", {}).items():
            names = set(re.findall(r"\{([^}]+)\}", p))
            for m in METHODS:
                op = item.get(m)
                if not op:
                    continue
                declared = {self.deref(x)["name"] for x in item.get("parameters", []) + op.get("parameters", [])
                            if self.deref(x).get("in") == "path"}
                if names != declared:
                    bad.append(f"{m.upper()} {p}: path parameters {sorted(declared)} != {sorted(names)}")
                oid = op.get("operationId")
                if not oid or oid in ids:
                    bad.append(f"{m.upper()} {p}: operationId {oid!r} missing or also used by {ids.get(oid)}")
                ids[oid] = f"{m.upper()} {p}"
        self.report("document: path parameters declared, operationIds unique", bad)

    def report(self, name, problems):
        if problems:
            self.fail(name, "; ".join(problems[:10]))
        else:
            self.ok(name)

    # -------------------------------------------------------------- exchanges
    def find_path(self, path):
        """(template, path item) for a request path, or (None, None)."""
        exact = self.spec["paths"].get(path)
        if exact is not None:
            return path, exact
        for tpl, item in self.spec["paths"].items():
            rx = "".join(
                "[^/]+" if part.startswith("{") else re.escape(part)
                for part in re.split(r"(\{[^}]+\})", tpl)
            )
            if re.fullmatch(rx, path):
                return tpl, item
        return None, None

    @staticmethod
    def read_headers(folder):
        """(status, {lower-case name: value}) of the last response in curl's -D file."""
        try:
            with open(os.path.join(folder, "headers"), "rb") as f:
                text = f.read().decode("latin-1")
        except OSError:
            return None, {}
        blocks = [b for b in re.split(r"\r?\n\r?\n", text) if b.strip().startswith("HTTP/")]
        if not blocks:
            return None, {}
        lines = blocks[-1].strip().splitlines()
        m = re.match(r"HTTP/\S+\s+(\d{3})", lines[0])
        headers = {}
        for line in lines[1:]:
            if ":" in line:
                k, v = line.split(":", 1)
                headers[k.strip().lower()] = v.strip()
        return (int(m.group(1)) if m else None), headers

    @staticmethod
    def read(folder, name):
        try:
            with open(os.path.join(folder, name), "rb") as f:
                return f.read()
        except OSError:
            return None

    def check_exchange(self, name, method, target, expected, folder):
        label = f"{name}: {method} {target} -> {expected}"
        if method == "-":
            return self.fail(name, target)
        status, headers = self.read_headers(folder)
        body = self.read(folder, "body") or b""
        if status is None:
            err = (self.read(folder, "curl-error") or b"").decode(errors="replace").strip()
            return self.fail(label, f"no HTTP response ({err or 'nothing received'})")
        if status != int(expected):
            return self.fail(label, f"status {status}, body {body[:300].decode(errors='replace')}")

        split = urllib.parse.urlsplit(target)
        tpl, item = self.find_path(split.path)
        problems = []
        op = None
        if tpl is None:
            if status != 404:
                return self.fail(label, f"{split.path} is not in the document and the status is not 404")
            resp = self.spec["components"]["responses"]["NotFound"]
            where = "components/responses/NotFound"
        else:
            lm = "get" if method == "HEAD" else method.lower()
            op = item.get(lm)
            if op is None and status == 405:
                found = [o["responses"]["405"] for o in (item.get(m) for m in METHODS) if o and "405" in o["responses"]]
                if not found:
                    return self.fail(label, f"{tpl} documents no 405 response")
                resp = self.deref(found[0])
            elif op is None:
                return self.fail(label, f"the document has no {method} {tpl}")
            elif str(status) not in op["responses"]:
                return self.fail(label, f"status {status} is not documented for {method} {tpl}")
            else:
                resp = self.deref(op["responses"][str(status)])
            where = f"{method} {tpl} {status}"
            self.exercised.add((tpl, lm if op else "*", str(status)))

        # Headers the response documents as required.
        for h, hdr in resp.get("headers", {}).items():
            hdr = self.deref(hdr)
            value = headers.get(h.lower())
            if value is None:
                if hdr.get("required"):
                    problems.append(f"header {h} is missing")
                continue
            problems += [f"header {h}: {e}" for e in self.errors(hdr.get("schema", {}), value)]

        # Media type and body.
        content = resp.get("content", {})
        ctype = headers.get("content-type", "").split(";")[0].strip().lower()
        if not content:
            if body:
                problems.append("the document has no body for this response, the service sent one")
        elif ctype not in content:
            problems.append(f"Content-Type {ctype or '(none)'} is not one of {sorted(content)}")
        elif method == "HEAD":
            if body:
                problems.append("HEAD response has a body")
        elif ctype in ("text/csv", "text/plain"):
            # Not JSON: the body as one string against the media type's schema
            # (its pattern), and the documented parameters (Prometheus's text
            # format names its version).
            try:
                text = body.decode("utf-8")
                problems += self.errors(content[ctype].get("schema", {}), text)
            except UnicodeDecodeError as e:
                problems.append(f"{ctype} body is not UTF-8 ({e})")
            want = {"text/csv": "text/csv;charset=utf-8",
                    "text/plain": "text/plain;version=0.0.4;charset=utf-8"}[ctype]
            if headers.get("content-type", "").replace(" ", "").lower() != want:
                problems.append(f"Content-Type {headers.get('content-type')} is not {want}")
        else:
            try:
                doc = json.loads(body)
            except ValueError as e:
                doc = None
                problems.append(f"body is not JSON ({e}): {body[:200]!r}")
            if doc is not None:
                problems += self.errors(content[ctype].get("schema", {}), doc)
                problems += self.check_semantics(op, item, split, status, doc, folder)
            if split.path == "/openapi.json" and body != self.spec_bytes:
                problems.append(f"the served document differs from {self.spec_path}")

        if problems:
            self.fail(label, f"({where}) " + "; ".join(problems[:8]))
        else:
            self.ok(label)

    def query_params(self, op, item):
        params = (item or {}).get("parameters", []) + (op or {}).get("parameters", [])
        return {self.deref(p)["name"] for p in params if self.deref(p).get("in") == "query"}

    def check_semantics(self, op, item, split, status, doc, folder):
        problems = []
        declared = self.query_params(op, item)
        if 200 <= status < 300 and op is not None:
            used = {k for k, _ in urllib.parse.parse_qsl(split.query, keep_blank_values=True)}
            if used - declared:
                problems.append(f"query parameters {sorted(used - declared)} are not documented")
        if isinstance(doc, dict) and "parameter" in doc and doc["parameter"] not in declared:
            problems.append(f"problem names parameter {doc['parameter']!r}, which the operation does not declare")
        request = self.read(folder, "request")
        rb = op.get("requestBody") if op else None
        if request is not None and rb:
            schema = self.deref(rb)["content"]["application/json"]["schema"]
            try:
                sent = json.loads(request)
            except ValueError:
                sent = None
            if status == 200:
                errs = self.errors(schema, sent)
                if errs:
                    problems.append("the service accepted a body that the request schema rejects: " + "; ".join(errs))
            elif status == 400 and isinstance(doc, dict) and "pointer" in doc and sent is not None:
                if not self.errors(schema, sent):
                    problems.append(f"the service refused ({doc['pointer']!r}) a body that the request schema accepts")
        return problems

    def coverage(self):
        missing = []
        for p, item in self.spec["paths"].items():
            for m in METHODS:
                op = item.get(m)
                if not op:
                    continue
                for st in op["responses"]:
                    if (p, m, st) not in self.exercised and not (st == "405" and (p, "*", st) in self.exercised):
                        missing.append(f"{m.upper()} {p} {st}")
        if missing:
            print("documented but not exercised: " + ", ".join(missing))


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    c = Checker(sys.argv[1])
    c.check_document()
    with open(sys.argv[2], encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                continue
            fields = line.split("\t")
            if len(fields) != 5:
                c.fail("manifest", f"bad line {line!r}")
                continue
            c.check_exchange(*fields)
    c.coverage()
    print(f"{c.passed} passed, {c.failed} failed")
    return 1 if c.failed else 0


if __name__ == "__main__":
    sys.exit(main())
