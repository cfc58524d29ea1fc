#!/usr/bin/env python3
"""file_graph.py — the library's files as a graph: which file's functions call which other
file's, and which file includes which header. Prints both graphs and any cycle in the call
graph (files that call each other, directly or around a loop); exits 1 when there is one.

usage: scripts/file_graph.py [SRC_DIR] [--dot]

Calls are found by name: every function a .c file defines without `static` is that file's,
and a file calls it where its name is followed by '(' outside comments and strings. Calls
through a function pointer (an ops table) are not calls: that is the point of the table."""
import os
import re
import sys

DEF = re.compile(r'^(?!static\b)(?:[A-Za-z_][\w \t\*]*?[\s\*])?\b([a-z_]\w*)\s*\(([^;{]*?)\)\s*\{',
                 re.M | re.S)
CALL = re.compile(r'\b([a-z_]\w*)\s*\(')
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def strip(text):
    """The text without comments, string and character literals."""
    text = re.sub(r'/\*.*?\*/', lambda m: '\n' * m.group(0).count('\n'), text, flags=re.S)
    text = re.sub(r'//[^\n]*', '', text)
    return re.sub(r'"(?:\\.|[^"\\\n])*"|\'(?:\\.|[^\'\\\n])*\'', '""', text)


def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    root = args[0] if args else os.path.join(os.path.dirname(__file__), '..', 'src')
    root = os.path.normpath(root)
    files, raw = {}, {}
    for d, _, names in os.walk(root):
        for n in names:
            if n.endswith(('.c', '.h')):
                path = os.path.join(d, n)
                raw[os.path.relpath(path, root)] = open(path, errors='replace').read()
    files = {f: strip(text) for f, text in raw.items()}
    # a function's files: more than one where platform halves (x_cuda.c, x_nocuda.c) both
    # define it
    owners = {}
    for f, text in files.items():
        if f.endswith('.c'):
            for m in DEF.finditer(text):
                if m.group(1) not in ('if', 'for', 'while', 'switch', 'return', 'sizeof'):
                    owners.setdefault(m.group(1), set()).add(f)
    calls, includes = {}, {}
    for f, text in sorted(files.items()):
        for name in INCLUDE.findall(raw[f]):
            for cand in (os.path.normpath(os.path.join(os.path.dirname(f), name)), name):
                if cand in files:
                    includes.setdefault(f, set()).add(cand)
                    break
        if f.endswith('.c'):
            for name in CALL.findall(text):
                where = owners.get(name, set())
                if f not in where: # (a file that defines a name calls its own)
                    calls.setdefault(f, set()).update(where)
    if '--dot' in sys.argv:
        print('digraph src {')
        for f in sorted(calls):
            for g in sorted(calls[f]):
                print(f'  "{f}" -> "{g}";')
        print('}')
        return 0
    print('# calls: FILE -> the files whose functions it calls')
    for f in sorted(calls):
        print(f'{f} -> {" ".join(sorted(calls[f]))}')
    print('\n# includes: FILE -> the project headers it includes')
    for f in sorted(includes):
        print(f'{f} -> {" ".join(sorted(includes[f]))}')
    cycles = [c for c in components(calls) if len(c) > 1]
    cycles += [c for c in components(includes) if len(c) > 1]
    print()
    for c in cycles:
        print('cycle: ' + ' '.join(sorted(c)))
    print(f'{len(files)} files, {sum(map(len, calls.values()))} call edges, '
          f'{sum(map(len, includes.values()))} include edges, {len(cycles)} cycles')
    return 1 if cycles else 0


def components(graph):
    """Tarjan's strongly connected components."""
    index, low, stack, on, out = {}, {}, [], set(), []
    sys.setrecursionlimit(10000)

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                on.discard(w)
                comp.add(w)
                if w == v:
                    break
            out.append(comp)

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


if __name__ == '__main__':
    sys.exit(main())
