#!/usr/bin/env python3
"""The action manifests hold no copies of the shared pieces (issue 10 item 7).

Usage: manifest_splice_check.py SOURCE_MANIFESTS_DIR SPLICED_DIR

- every source manifest (manifests/actions/*.json) takes its connection schema from
  manifests/common/connection.json and its provider enums from providers.json through
  a placeholder, not as a copy;
- every spliced manifest (A0_MANIFEST_OUT_DIR) is complete: no placeholder is left, its
  connection schema is common/connection.json, each identity schema (items of
  identities[] and profiles[]) is common/identity.json and each provider enum is
  common/providers.json.
The common folder is SOURCE_MANIFESTS_DIR/../common.
"""
import json
import pathlib
import sys

src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
common = {p.stem: json.loads(p.read_text()) for p in (src.parent / "common").glob("*.json")}
problems = []


def walk(v, path, visit):
    visit(v, path)
    if isinstance(v, dict):
        for k, x in v.items():
            walk(x, path + "/" + k, visit)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            walk(x, path + "/" + str(i), visit)


sources = sorted(src.glob("*.json"))
if not sources:
    problems.append(f"{src}: no manifests")
for f in sources:
    m = json.loads(f.read_text())
    if m.get("connection") != {"x-splice": "connection"}:
        problems.append(f"{f}: /connection is not {{\"x-splice\": \"connection\"}} (a copy of common/connection.json?)")

    def copies(v, path, f=f):
        for name, piece in common.items():
            if v == piece and isinstance(v, (dict, list)):
                problems.append(f"{f}: {path} is a copy of common/{name}.json; write {{\"x-splice\": \"{name}\"}}")

    walk(m, "", copies)

spliced = sorted(out.glob("*.json"))
if len(spliced) != len(sources):
    problems.append(f"{out}: {len(spliced)} spliced manifests for {len(sources)} sources")
for f in spliced:
    text = f.read_text()
    for mark in ("x-splice", "@PROVIDERS@"):
        if mark in text:
            problems.append(f"{f}: {mark} left in the spliced manifest")
    m = json.loads(text)
    if m.get("connection") != common.get("connection"):
        problems.append(f"{f}: /connection differs from common/connection.json")

    def pieces(v, path, f=f):
        if path.endswith("/properties/identities/items") or path.endswith("/properties/profiles/items"):
            if v != common.get("identity"):
                problems.append(f"{f}: {path} differs from common/identity.json")
        if path.endswith("/secondary_provider/enum") and v != common.get("providers"):
            problems.append(f"{f}: {path} differs from common/providers.json")

    walk(m, "", pieces)

if problems:
    print("FAIL:\n" + "\n".join(problems), file=sys.stderr)
    sys.exit(1)
print(f"ok: {len(sources)} manifests, no copies of {', '.join(sorted(common))}; the spliced ones are complete")
