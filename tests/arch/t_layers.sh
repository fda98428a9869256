#!/usr/bin/env bash
# t_layers.sh - the architecture as the build sees it (TAP): every object
# calls only into its own layer or the layers below it, the file graph of
# the objects' symbols has no cycle, includes point downward too, only the
# shims define the allocation symbols of libc and C++, nothing below them
# calls a shim by its libc name (allow-list aside), and the public
# header and the library's exports hold only what they should.
# Layers, lowest first (README "Design"): the folders of src/.
set -u
ROOT=${MPWRAP_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT" || exit 1
exec python3 - "$@" <<'EOF'
import collections, glob, os, re, subprocess, sys

LAYERS = ["base", "heap", "stack", "leak", "report", "detect", "api", "preload"]
RANK = {l: i for i, l in enumerate(LAYERS)}
n = 0
fails = 0

def check(name, ok, why=""):
    global n, fails
    n += 1
    if ok:
        print(f"ok {n} - {name}")
    else:
        fails += 1
        print(f"not ok {n} - {name}")
        for line in str(why).splitlines()[:40]:
            print(f"#   {line}")

def layer_of_path(p):
    parts = p.split(os.sep)
    if len(parts) == 2:            # src/api.c
        return "api"
    return parts[1]

srcs = {}
for p in glob.glob("src/**/*.[ch]", recursive=True):
    srcs[os.path.basename(p)] = p

# 1. the tree: every source file sits in a layer folder
stray = [p for p in srcs.values()
         if layer_of_path(p) not in RANK or (layer_of_path(p) == "api" and os.path.basename(p) not in ("api.c", "api.h"))]
check("every source file sits in a layer folder of src/", not stray, "\n".join(stray))

# 2. the objects' symbol graph
objs = {}
for o in glob.glob("build/*.o"):
    name = os.path.basename(o)[:-2]
    if name + ".c" in srcs:
        objs[name] = o
check("the objects are built (make all first)", len(objs) >= 30, f"{len(objs)} objects")
defs, uses = {}, collections.defaultdict(set)
for name, o in objs.items():
    out = subprocess.run(["nm", o], capture_output=True, text=True).stdout
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in "TDBRVWC":
            defs.setdefault(f[2], name)
        elif len(f) == 2 and f[0] in ("U", "w", "v"):
            uses[name].add(f[1])  # a weak reference is a call too
edges = collections.defaultdict(set)
for a, syms in uses.items():
    for s in syms:
        b = defs.get(s)
        if b and b != a and (s.startswith("_mp_") or s.startswith("mp_")):
            edges[a].add((b, s))
lay = {name: layer_of_path(srcs[name + ".c"]) for name in objs}
up = [f"{a} ({lay[a]}) calls {s} of {b} ({lay[b]})"
      for a in sorted(edges) for b, s in sorted(edges[a]) if RANK[lay[b]] > RANK[lay[a]]]
check("calls go only to the same layer or below", not up, "\n".join(up))

# cycles: strongly connected components of the file graph
index, low, stack, on, comps, counter = {}, {}, [], set(), [], [0]
sys.setrecursionlimit(10000)
def visit(v):
    index[v] = low[v] = counter[0]; counter[0] += 1
    stack.append(v); on.add(v)
    for w, _ in edges.get(v, ()):
        if w not in index:
            visit(w); low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        comp = []
        while True:
            w = stack.pop(); on.discard(w); comp.append(w)
            if w == v:
                break
        if len(comp) > 1:
            comps.append(comp)
for v in sorted(objs):
    if v not in index:
        visit(v)
why = []
for comp in comps:
    why.append("cycle: " + " ".join(sorted(comp)))
    why += [f"  {a} -> {b}: {s}" for a in comp for b, s in sorted(edges[a]) if b in comp]
check("the file graph of the objects' symbols has no cycle", not comps, "\n".join(why))

# 3. includes point downward
bad = []
for p in sorted(srcs.values()):
    for m in re.finditer(r'^#include "([^"]+)"', open(p).read(), re.M):
        h = m.group(1)
        if h == "mempool.h":
            continue
        target = srcs.get(os.path.basename(h))
        if not target:
            bad.append(f"{p}: {h} not found")
        elif RANK[layer_of_path(target)] > RANK[layer_of_path(p)]:
            bad.append(f"{p} ({layer_of_path(p)}) includes {target}")
check("includes point to the same layer or below", not bad, "\n".join(bad))

# 4. only the shims define libc's and C++'s allocation symbols
alloc = re.compile(r"^(malloc|free|calloc|realloc|reallocarray|memalign|posix_memalign|"
                   r"aligned_alloc|valloc|pvalloc|malloc_usable_size|"
                   r"__libc_(malloc|free|calloc|realloc|memalign|valloc|pvalloc)|"
                   r"_Znw.*|_Zna.*|_Zdl.*|_Zda.*)$")
owners = sorted({f"{defs[s]}: {s}" for s in defs if alloc.match(s)
                 and defs[s] not in ("preload", "preload_cxx")})
check("only src/preload defines allocation symbols", not owners, "\n".join(owners))

# 4a. no object below src/preload uses a symbol src/preload defines, libc's
# names included: the shims are the program's view of libc (sigaction shows
# the program SIG_DFL where the library owns the signal; free of a pool
# block returns it to the pool), and a lower layer calling them by their
# libc name would bind to them at run time.  Internal calls go to the real
# functions (base/real.c: _mp_real_malloc, _mp_real_sigaction, ...).  The
# allow-list holds the calls meant to go through the shim, with the reason.
ALLOWED = {
    # the demangler's result: __cxa_demangle allocates it through the
    # program's malloc (the shim), so it is freed through the same view
    ("symbolize", "free"),
    # a Dwarf_Frame libdw allocated through the program's malloc (the shim,
    # busy: served by the real allocator), freed through the same view
    ("unwindcfi", "free"),
}
preload_defs = {}
for name, o in objs.items():
    if lay[name] == "preload":
        out = subprocess.run(["nm", "--defined-only", o], capture_output=True, text=True).stdout
        for line in out.splitlines():
            f = line.split()
            if len(f) == 3 and f[1] in "TWDBRV":
                preload_defs[f[2]] = name
below = sorted(f"{name} ({lay[name]}) uses {s}, defined by preload/{preload_defs[s]}"
               for name in objs if lay[name] != "preload"
               for s in uses[name] if s in preload_defs and (name, s) not in ALLOWED)
check("no object below src/preload uses a symbol src/preload defines (libc names included)",
      not below and len(preload_defs) > 20, "\n".join(below) or f"{len(preload_defs)} preload symbols")
stale = sorted(f"{n}: {s}" for n, s in ALLOWED if s not in uses.get(n, ()))
check("every entry of the shim allow-list is still used", not stale, "\n".join(stale))

# 4b. one owner of the fork protocol: only procgate registers with pthread_atfork
atfork = sorted(n for n, syms in uses.items() if "pthread_atfork" in syms and n != "procgate")
check("only base/procgate.c calls pthread_atfork (every layer registers there)", not atfork,
      " ".join(atfork))

# 5. the public header declares only mp_* (and their types)
hdr = open("include/mempool.h").read()
hdr = re.sub(r"/\*.*?\*/", "", hdr, flags=re.S)
names = set(re.findall(r"\b(?:struct\s+)?([A-Za-z_]\w*)\s*\(", hdr))
names |= set(re.findall(r"\bstruct\s+(\w+)", hdr))
keywords = {"sizeof", "defined", "__attribute__", "visibility", "__has_attribute",
            "warn_unused_result", "malloc", "alloc_size", "nonnull", "deprecated"}
odd = sorted(x for x in names - keywords if not x.startswith("mp_") and not x.startswith("MP_"))
check("include/mempool.h holds only mp_* functions and types", not odd, " ".join(odd))

# 6. libmpwrap.so exports the API, the shims and nothing internal
if os.path.exists("libmpwrap.so"):
    out = subprocess.run(["nm", "-D", "--defined-only", "libmpwrap.so"],
                         capture_output=True, text=True).stdout
    leaked = sorted(f.split()[-1] for f in out.splitlines() if f.split()[-1].startswith("_mp_"))
    check("no _mp_ internal is exported by libmpwrap.so", not leaked, " ".join(leaked))
print(f"# {n} checks, {fails} failed")
sys.exit(1 if fails else 0)
EOF
