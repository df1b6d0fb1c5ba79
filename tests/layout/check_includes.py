#!/usr/bin/env python3
"""The house's rules, checked: every quoted #include resolves to a file in the source tree under the
spelling it uses (relative to the including file, or to the project root); installed headers include
only each other, relatively; storage, format, index and bus code never includes an actor header.
Usage: check_includes.py PROJECT_ROOT"""
import os
import re
import sys

root = os.path.abspath(sys.argv[1])
dirs = ["actors", "messages", "src", "tools", "tests", "examples", "bench"]
include = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)
problems = []

def resolves(path, spec):
    here = os.path.join(os.path.dirname(path), spec)
    return os.path.isfile(here) or os.path.isfile(os.path.join(root, spec))

for top in dirs:
    for base, _, files in os.walk(os.path.join(root, top)):
        if "/corpus" in base:
            continue
        for name in files:
            if not name.endswith((".hpp", ".cpp", ".h", ".c")):
                continue
            path = os.path.join(base, name)
            rel = os.path.relpath(path, root)
            for spec in include.findall(open(path, encoding="utf-8", errors="replace").read()):
                if not resolves(path, spec):
                    problems.append(f"{rel}: #include \"{spec}\" names no file in the tree")
                if rel.startswith(("src/format/", "src/storage/", "src/index/", "src/bus/")):
                    target = os.path.normpath(os.path.join(os.path.dirname(rel), spec))
                    if spec.startswith("actors/") or target.startswith("actors/"):
                        problems.append(f"{rel}: includes the actor header \"{spec}\" (layers point down)")

# Installed headers: read the install(FILES ...) rules of the top CMakeLists.txt.
cmake = open(os.path.join(root, "CMakeLists.txt")).read()
installed = set()
for block in re.findall(r"install\(FILES([^)]*)DESTINATION", cmake):
    installed.update(w for w in block.split() if w.endswith(".hpp"))
for header in sorted(installed):
    path = os.path.join(root, header)
    for spec in include.findall(open(path).read()):
        here = os.path.normpath(os.path.join(os.path.dirname(header), spec))
        facade_relative = os.path.normpath(spec)  # the facade's dir is <evstore/> after install
        if here in installed:
            continue
        if header.startswith("src/facade/") and facade_relative in installed:
            continue
        if header.startswith("src/facade/") and os.path.normpath(os.path.join("src/facade", spec)) in installed:
            continue
        problems.append(f"{header} (installed): #include \"{spec}\" is not another installed header, "
                        "spelled relative to it")

for p in problems:
    print(p)
sys.exit(1 if problems else 0)
