#!/usr/bin/env python3
"""Compares two abidw descriptions of the ABI probe (abi_check.sh): exit 0 when NEW is
compatible with BASELINE under wfa.h's rule (WFA-2, docs/abi.md), else 1 naming every
break. Compatible means: the same exported functions with the same signatures; every
struct of the baseline keeps each member at the same offset with the same name and the
same type (types compared structurally, through typedefs, pointers, const, arrays and
function types); a struct may only grow by members placed at or after its old end, and
not at all when it is frozen (wfa_str: embedded by value, no struct_size).
abidiff says *that* something changed; this says whether the change is an append."""
import sys
import xml.etree.ElementTree as ET

FROZEN = {"wfa_str"}


class Corpus:
    def __init__(self, path):
        root = ET.parse(path).getroot()
        self.types = {}
        self.functions = {}
        for el in root.iter():
            if "id" in el.attrib:
                self.types[el.attrib["id"]] = el
            if el.tag == "function-decl":
                self.functions[el.attrib["name"]] = el
        self.structs = {el.attrib["name"]: el for el in self.types.values()
                        if el.tag == "class-decl" and el.attrib.get("is-declaration-only") != "yes"}

    def canon(self, tid):
        """A type as a string, independent of ids and typedef names; structs by name."""
        el = self.types[tid]
        tag, a = el.tag, el.attrib
        if tag == "type-decl":
            return f"{a['name']}:{a.get('size-in-bits', '0')}"
        if tag == "typedef-decl":
            return self.canon(a["type-id"])
        if tag == "pointer-type-def":
            return self.canon(a["type-id"]) + "*"
        if tag == "qualified-type-def":
            return ("const " if a.get("const") == "yes" else "") + ("volatile " if a.get("volatile") == "yes" else "") + self.canon(a["type-id"])
        if tag == "array-type-def":
            dims = "".join(f"[{s.attrib.get('length', '?')}]" for s in el.findall("subrange"))
            return self.canon(a["type-id"]) + dims
        if tag == "class-decl":
            return ("struct " if a.get("is-struct") == "yes" else "class ") + a.get("name", "?")
        if tag == "union-decl":
            return "union " + a.get("name", "?")
        if tag == "enum-decl":
            return "enum " + a.get("name", "?")
        if tag == "function-type":
            return "(" + self.signature(el) + ")"
        return f"<{tag}>"

    def signature(self, fn):
        """A function type or declaration: parameter types and return type."""
        params = ", ".join(self.canon(p.attrib["type-id"]) if "type-id" in p.attrib else "..."
                           for p in fn.findall("parameter"))
        return f"fn({params}) -> {self.canon(fn.find('return').attrib['type-id'])}"

    def members(self, name):
        out = []
        for dm in self.structs[name].findall("data-member"):
            var = dm.find("var-decl")
            out.append((int(dm.attrib["layout-offset-in-bits"]), var.attrib["name"], self.canon(var.attrib["type-id"])))
        return out


def compare(old, new):
    breaks = []
    for fn, el in old.functions.items():
        if fn not in new.functions:
            breaks.append(f"function {fn} removed")
        elif old.signature(el) != new.signature(new.functions[fn]):
            breaks.append(f"function {fn}: signature {old.signature(el)} became {new.signature(new.functions[fn])}")
    for name in sorted(old.structs):
        if name not in new.structs:
            breaks.append(f"struct {name} removed")
            continue
        old_size = int(old.structs[name].attrib.get("size-in-bits", "0"))
        new_size = int(new.structs[name].attrib.get("size-in-bits", "0"))
        om, nm = old.members(name), new.members(name)
        by_offset = {}
        for m in nm:
            by_offset.setdefault(m[0], []).append(m)
        for off, mname, mtype in om:
            if (off, mname, mtype) not in by_offset.get(off, []):
                now = [f"{m[1]} {m[2]} at bit {m[0]}" for m in nm if m[1] == mname]
                breaks.append(f"struct {name}: member {mname} ({mtype}) at bit {off} "
                              + (f"is now {now[0]}" if now else "is gone"))
        appended = [m for m in nm if m not in om]
        for off, mname, mtype in appended:
            if off < old_size:
                breaks.append(f"struct {name}: member {mname} inserted at bit {off}, inside the old size {old_size}")
            elif name in FROZEN:
                breaks.append(f"struct {name} is frozen (no struct_size): member {mname} appended")
        if new_size < old_size:
            breaks.append(f"struct {name} shrank from {old_size} to {new_size} bits")
        elif new_size > old_size and not appended:
            breaks.append(f"struct {name} grew from {old_size} to {new_size} bits without an appended member")
    return breaks


def main():
    if len(sys.argv) != 3:
        print("usage: abi_compare.py BASELINE.abi NEW.abi", file=sys.stderr)
        return 2
    breaks = compare(Corpus(sys.argv[1]), Corpus(sys.argv[2]))
    for b in breaks:
        print("ABI break:", b)
    return 1 if breaks else 0


if __name__ == "__main__":
    sys.exit(main())
