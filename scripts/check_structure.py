#!/usr/bin/env python3
"""Structure check for the Rust crate under src/ (issue 13).

Usage: python3 scripts/check_structure.py [--src DIR] [--report]
                                           [--max-root-names N] [--max-fn-lines N]

Three rules; the default mode prints what breaks them and exits 1 on any
violation, `--report` prints everything (the module graphs as well) and
always exits 0. Python 3.11, standard library only.

1. No module import cycles
   --------------------------
   Modules are files: `src/lib.rs` is the crate root, `src/a.rs` and
   `src/a/mod.rs` are module `a`, `src/a/b.rs` (or `src/a/b/mod.rs`) is
   `a::b`. An inline `mod x { ... }` block is its own scope for resolving
   `super::`/`self::`, but counts as part of its file's module in the graph.

   A reference from module A to module B is any path in code (comments,
   doc comments and string literals are not code, so doc links are not
   references) that resolves into B:
     - `crate::b::...` and `$crate::b::...` anywhere, `use crate::b::...`;
     - `super::...` (repeatable) relative to A, `self::...`;
     - `x::...` where `x` is a child module of A's scope, or a name that
       scope imported with `use` (2018 uniform paths), in `use` trees too.
   A path resolves to the longest prefix that is a module; when the next
   segment is a name that module imports with `use` (a re-export, such as
   `crate::Error` for `pub use error::Error`, or a private import seen by a
   child through `super::`), the reference follows it to the module the
   name comes from (reported as "via ...").

   What counts as a cycle: for every module D that has child file modules
   (the crate root included), take the graph whose nodes are D's direct
   children; a reference from anything inside child X to anything inside
   a different child Y is the edge X -> Y. References between a module and
   its own ancestors or descendants (a parent using its child, a child using
   `super::`) are not edges, so code in the crate root never counts. Every
   strongly connected component of more than one node is a violation; the
   top-level graph (children of the crate root) is one of these graphs, the
   sibling submodules of `verify`, `keys`, `keys::pkcs11`, ... are others.

   Test code is excluded: an item under `#[cfg(test)]` (or
   `#[cfg(all(test, ...))]`) -- a `mod tests { ... }` block, a test-only
   fn, impl or use -- and the file of an out-of-line `#[cfg(test)] mod x;`.

2. Function length
   ---------------
   Every `fn` item with a body (free functions, methods, trait default
   methods, nested fns; the `fn` keyword followed by a name and `(` or `<`,
   so `fn(u8)` pointer types and closures are not fns) is measured from the
   line of its `fn` keyword to the line of its closing brace, inclusive;
   doc comments and attributes above it are not counted. Longer than the
   limit (default 80, `--max-fn-lines`) is a violation. Test code is
   excluded as above. The lexer skips strings (also byte, C and raw strings
   r#"..."#), char literals, lifetimes and labels ('a is not a char),
   line comments and nested block comments.

3. Root re-exports
   ---------------
   Every name `src/lib.rs` re-exports at its top level with `pub use` counts
   once (each leaf of a `pub use a::{B, C}` tree, the alias of `as`, the
   module name of `{self}`, under any `#[cfg]`); a glob `pub use a::*` is a
   violation by itself; `pub mod x` and `pub(crate) use` do not count. More
   names than the limit (default 25, `--max-root-names`) is a violation.

Code under `#[cfg(feature = ...)]` or any other cfg but `test` counts, as if
every feature were on.

Not supported: `#[path = ...]` on modules, and macros that generate `mod` or
`use` items (their tokens are still scanned for paths and fns).
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass, field
from pathlib import Path

# --------------------------------------------------------------------------
# Lexer
# --------------------------------------------------------------------------


@dataclass(slots=True)
class Tok:
    kind: str  # 'id', 'lt' (lifetime/label), 'str', 'char', 'num', 'p' (punct)
    val: str
    line: int
    raw: bool = False  # r#ident

    def is_p(self, v: str) -> bool:
        return self.kind == "p" and self.val == v

    def is_kw(self, v: str) -> bool:
        return self.kind == "id" and not self.raw and self.val == v


def _ident_start(c: str) -> bool:
    return c == "_" or c.isalpha()


def _ident_char(c: str) -> bool:
    return c == "_" or c.isalnum()


class LexError(Exception):
    pass


def lex(src: str) -> list[Tok]:
    """Tokens of Rust source, without whitespace and comments."""
    toks: list[Tok] = []
    n = len(src)
    i = 0
    line = 1

    def scan_quoted(j: int) -> int:
        # src[j] == '"'; returns the index after the closing quote.
        k = j + 1
        while k < n:
            ch = src[k]
            if ch == "\\":
                k += 2
                continue
            if ch == '"':
                return k + 1
            k += 1
        raise LexError(f"line {line}: unterminated string")

    def scan_char(j: int) -> int | None:
        # src[j] == "'"; index after a char literal, or None (not a char).
        if j + 1 < n and src[j + 1] == "\\":
            end = src.find("'", j + 3)
            if end < 0:
                raise LexError(f"line {line}: unterminated char literal")
            return end + 1
        if j + 2 < n and src[j + 2] == "'" and src[j + 1] != "\n":
            return j + 3
        return None

    while i < n:
        c = src[i]
        if c == "\n":
            line += 1
            i += 1
            continue
        if c.isspace():
            i += 1
            continue
        if c == "/" and src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "/" and src.startswith("/*", i):
            depth = 1
            j = i + 2
            while j < n and depth:
                if src.startswith("/*", j):
                    depth += 1
                    j += 2
                elif src.startswith("*/", j):
                    depth -= 1
                    j += 2
                else:
                    if src[j] == "\n":
                        line += 1
                    j += 1
            if depth:
                raise LexError(f"line {line}: unterminated block comment")
            i = j
            continue
        if _ident_start(c):
            j = i + 1
            while j < n and _ident_char(src[j]):
                j += 1
            word = src[i:j]
            if word in ("r", "br", "cr") and j < n and src[j] in '"#':
                k = j
                while k < n and src[k] == "#":
                    k += 1
                if k < n and src[k] == '"':
                    term = '"' + "#" * (k - j)
                    end = src.find(term, k + 1)
                    if end < 0:
                        raise LexError(f"line {line}: unterminated raw string")
                    end += len(term)
                    toks.append(Tok("str", "", line))
                    line += src.count("\n", i, end)
                    i = end
                    continue
                if word == "r" and k == j + 1 and k < n and _ident_start(src[k]):
                    m = k + 1
                    while m < n and _ident_char(src[m]):
                        m += 1
                    toks.append(Tok("id", src[k:m], line, raw=True))
                    i = m
                    continue
            if word in ("b", "c") and j < n and src[j] == '"':
                end = scan_quoted(j)
                toks.append(Tok("str", "", line))
                line += src.count("\n", i, end)
                i = end
                continue
            if word == "b" and j < n and src[j] == "'":
                end = scan_char(j)
                if end is not None:
                    toks.append(Tok("char", "", line))
                    i = end
                    continue
            toks.append(Tok("id", word, line))
            i = j
            continue
        if c.isdigit():
            j = i + 1
            while j < n and _ident_char(src[j]):
                j += 1
            if j + 1 < n and src[j] == "." and src[j + 1].isdigit():
                j += 1
                while j < n and _ident_char(src[j]):
                    j += 1
            toks.append(Tok("num", src[i:j], line))
            i = j
            continue
        if c == '"':
            end = scan_quoted(i)
            toks.append(Tok("str", "", line))
            line += src.count("\n", i, end)
            i = end
            continue
        if c == "'":
            end = scan_char(i)
            if end is not None:
                toks.append(Tok("char", "", line))
                i = end
                continue
            if i + 1 < n and _ident_start(src[i + 1]):
                j = i + 2
                while j < n and _ident_char(src[j]):
                    j += 1
                toks.append(Tok("lt", src[i:j], line))
                i = j
                continue
            toks.append(Tok("p", "'", line))
            i += 1
            continue
        two = src[i : i + 2]
        if two in ("::", "->", "=>"):
            toks.append(Tok("p", two, line))
            i += 2
            continue
        toks.append(Tok("p", c, line))
        i += 1
    return toks


OPEN = {"(": ")", "[": "]", "{": "}"}
CLOSE = {v: k for k, v in OPEN.items()}


def match_brackets(toks: list[Tok]) -> tuple[dict[int, int], list[int]]:
    """Index of the matching closer for every opener, and the `{}` depth of
    every token (an opener and its closer have the depth outside them)."""
    match: dict[int, int] = {}
    depth = [0] * len(toks)
    stack: list[int] = []
    braces = 0
    for i, t in enumerate(toks):
        if t.kind != "p":
            depth[i] = braces
            continue
        if t.val in OPEN:
            depth[i] = braces
            stack.append(i)
            if t.val == "{":
                braces += 1
        elif t.val in CLOSE:
            # Recover from a stray closer: pop to the nearest opener of its kind.
            while stack and toks[stack[-1]].val != CLOSE[t.val]:
                j = stack.pop()
                if toks[j].val == "{":
                    braces -= 1
            if stack:
                j = stack.pop()
                match[j] = i
                if t.val == "}":
                    braces -= 1
            depth[i] = braces
        else:
            depth[i] = braces
    return match, depth


# --------------------------------------------------------------------------
# Per-file parse
# --------------------------------------------------------------------------

Mod = tuple[str, ...]


@dataclass
class Ref:
    scope: Mod  # the (possibly inline) module the reference is written in
    segs: list[str]
    line: int
    text: str
    glob: bool = False


@dataclass
class Fn:
    name: str
    line: int
    end: int

    @property
    def length(self) -> int:
        return self.end - self.line + 1


@dataclass
class UseEntry:
    segs: list[str]
    name: str | None  # None for a glob
    line: int


@dataclass
class FileInfo:
    path: Path
    module: Mod
    refs: list[Ref] = field(default_factory=list)
    fns: list[Fn] = field(default_factory=list)
    # (scope, name) -> (scope the `use` is written in, path)
    uses: dict[tuple[Mod, str], tuple[Mod, list[str]]] = field(default_factory=dict)
    inline_mods: set[Mod] = field(default_factory=set)
    test_mods: set[Mod] = field(default_factory=set)  # `#[cfg(test)] mod x;`
    is_test: bool = False  # `#![cfg(test)]`
    root_pub_uses: list[UseEntry] = field(default_factory=list)


ITEM_QUALIFIERS = {"pub", "default", "unsafe", "async", "const", "extern"}
BLOCK_ITEMS = {"mod", "fn", "impl", "trait", "struct", "enum", "union", "macro_rules"}
SEMI_ITEMS = {"use", "static", "type", "const", "let", "crate"}


def _split_commas(toks: list[Tok], match: dict[int, int], lo: int, hi: int) -> list[tuple[int, int]]:
    parts = []
    start = lo
    k = lo
    while k < hi:
        t = toks[k]
        if t.kind == "p" and t.val in OPEN and k in match:
            k = match[k] + 1
            continue
        if t.is_p(","):
            parts.append((start, k))
            start = k + 1
        k += 1
    if start < hi:
        parts.append((start, hi))
    return parts


def is_cfg_test(toks: list[Tok], match: dict[int, int], lo: int, hi: int) -> bool:
    """Whether the attribute tokens toks[lo:hi] (inside `#[...]`) are
    `cfg(test)` or `cfg(all(.., test, ..))`."""
    if hi - lo < 3 or not toks[lo].is_kw("cfg") or not toks[lo + 1].is_p("("):
        return False
    a, b = lo + 2, match.get(lo + 1, hi) 
    if b - a == 1 and toks[a].is_kw("test"):
        return True
    if b - a >= 3 and toks[a].is_kw("all") and toks[a + 1].is_p("("):
        inner_hi = match.get(a + 1, b)
        for s, e in _split_commas(toks, match, a + 2, inner_hi):
            if e - s == 1 and toks[s].is_kw("test"):
                return True
    return False


def item_end(toks: list[Tok], match: dict[int, int], j: int) -> tuple[int, str, str | None] | None:
    """If toks[j] starts an item (after its attributes), the index of its
    last token, its keyword and, for `mod NAME`, the name; else None."""
    n = len(toks)
    k = j
    while k < n and toks[k].kind == "id" and not toks[k].raw and toks[k].val in ITEM_QUALIFIERS:
        v = toks[k].val
        if v == "pub":
            k += 1
            if k < n and toks[k].is_p("(") and k in match:
                k = match[k] + 1
            continue
        if v == "async" and k + 1 < n and (toks[k + 1].is_p("{") or toks[k + 1].is_kw("move")):
            return None
        if v == "const" and not (
            k + 1 < n and toks[k + 1].kind == "id" and toks[k + 1].val in ("fn", "unsafe", "async", "extern")
        ):
            break
        if v == "extern":
            k += 1
            if k < n and toks[k].kind == "str":
                k += 1
            if k < n and toks[k].is_p("{") and k in match:
                return match[k], "extern", None
            continue
        k += 1
    if k >= n or toks[k].kind != "id" or toks[k].raw:
        return None
    kw = toks[k].val
    if kw in BLOCK_ITEMS:
        block = True
    elif kw in SEMI_ITEMS:
        block = False
    else:
        return None
    name = toks[k + 1].val if kw == "mod" and k + 1 < n and toks[k + 1].kind == "id" else None
    m = k
    while m < n:
        t = toks[m]
        if t.kind == "p":
            if t.val in ("(", "[") and m in match:
                m = match[m] + 1
                continue
            if t.val == "{" and m in match:
                if block:
                    return match[m], kw, name
                m = match[m] + 1
                continue
            if t.val == ";":
                return m, kw, name
        m += 1
    return None


def parse_use_tree(toks: list[Tok], match: dict[int, int], i: int, prefix: list[str], out: list[UseEntry]) -> int:
    """Parse one use tree at toks[i]; append its leaves to out; return the
    index after it."""
    n = len(toks)
    path = list(prefix)
    line = toks[i].line if i < n else 0
    while i < n:
        t = toks[i]
        if t.is_p("::"):
            i += 1
            continue
        if t.is_p("*"):
            out.append(UseEntry(path, None, t.line))
            return i + 1
        if t.is_p("{"):
            end = match.get(i, n - 1)
            k = i + 1
            while k < end:
                if toks[k].is_p(","):
                    k += 1
                    continue
                k = parse_use_tree(toks, match, k, path, out)
                # Skip anything unexpected up to the next comma.
                while k < end and not toks[k].is_p(","):
                    k += 1
            return end + 1
        if t.kind == "id" or (t.kind == "p" and t.val == "$"):
            if t.kind == "p":  # `$crate`
                i += 1
                continue
            path.append(t.val)
            line = t.line
            i += 1
            if i < n and toks[i].is_p("::"):
                continue
            if path and path[-1] == "self" and len(path) > 1:
                path.pop()
            name = path[-1]
            if i + 1 < n and toks[i].is_kw("as") and toks[i + 1].kind == "id":
                name = toks[i + 1].val
                i += 2
            out.append(UseEntry(path, name, line))
            return i
        return i + 1
    return i


def parse_file(path: Path, module: Mod, src: str) -> FileInfo:
    info = FileInfo(path, module)
    toks = lex(src)
    match, depth = match_brackets(toks)
    openers = sum(1 for t in toks if t.kind == "p" and t.val in OPEN)
    closers = sum(1 for t in toks if t.kind == "p" and t.val in CLOSE)
    if len(match) != openers or openers != closers:
        # Rust token trees are always balanced: the lexer went wrong, or the
        # file does not compile. Either way the results would be guesses.
        raise LexError("unbalanced (), [] or {}")
    n = len(toks)
    scopes: list[tuple[int, Mod]] = [(n, module)]
    i = 0
    while i < n:
        while len(scopes) > 1 and i > scopes[-1][0]:
            scopes.pop()
        scope = scopes[-1][1]
        t = toks[i]
        if t.is_p("#"):
            i = _attributes(info, toks, match, i, scopes)
            continue
        if t.kind != "id":
            i += 1
            continue
        prev = toks[i - 1] if i else None
        if not t.raw:
            if t.val == "use" and not (prev and prev.is_p("::")):
                i = _use_decl(info, toks, match, depth, i, scope, module)
                continue
            if t.val == "pub" and i + 1 < n and toks[i + 1].is_p("(") and i + 1 in match:
                i = match[i + 1] + 1  # pub(crate), pub(in crate::x)
                continue
            if (
                t.val == "mod"
                and i + 2 < n
                and toks[i + 1].kind == "id"
                and toks[i + 2].is_p("{")
                and i + 2 in match
            ):
                inner = scope + (toks[i + 1].val,)
                info.inline_mods.add(inner)
                scopes.append((match[i + 2], inner))
                i += 3
                continue
            if t.val == "fn" and i + 2 < n and toks[i + 1].kind == "id" and (
                toks[i + 2].is_p("(") or toks[i + 2].is_p("<")
            ):
                body = _fn_body(toks, match, i + 2)
                if body is not None:
                    info.fns.append(Fn(toks[i + 1].val, t.line, toks[body].line))
                i += 2
                continue
        if prev is not None and (prev.is_p("::") or prev.is_p(".")):
            i += 1
            continue
        segs = [t.val]
        if t.val == "crate" and prev is not None and prev.is_p("$"):
            segs = ["crate"]
        k = i
        while k + 2 < n and toks[k + 1].is_p("::") and toks[k + 2].kind == "id":
            segs.append(toks[k + 2].val)
            k += 2
        if len(segs) >= 2:
            info.refs.append(Ref(scope, segs, t.line, "::".join(segs)))
        i = k + 1
    return info


def _attributes(info: FileInfo, toks: list[Tok], match: dict[int, int], i: int, scopes: list[tuple[int, Mod]]) -> int:
    """At `#`: read the run of attributes; skip the item they annotate when
    it is test-only. Returns where to continue."""
    n = len(toks)
    test = False
    inner_test = False
    j = i
    while j < n and toks[j].is_p("#"):
        k = j + 1
        inner = k < n and toks[k].is_p("!")
        if inner:
            k += 1
        if not (k < n and toks[k].is_p("[") and k in match):
            break
        if is_cfg_test(toks, match, k + 1, match[k]):
            if inner:
                inner_test = True
            else:
                test = True
        j = match[k] + 1
    if inner_test:
        if len(scopes) == 1:
            info.is_test = True
            return n
        return scopes[-1][0]  # skip the rest of the inline module
    if not test:
        return i + 1  # attribute tokens are scanned as code
    end = item_end(toks, match, j)
    if end is None:
        return i + 1
    last, kw, name = end
    if kw == "mod" and name is not None and toks[last].is_p(";"):
        info.test_mods.add(scopes[-1][1] + (name,))
    return last + 1


def _fn_body(toks: list[Tok], match: dict[int, int], k: int) -> int | None:
    """From the `(` or `<` after a fn's name: the index of the body's closing
    brace, or None for a declaration without body."""
    n = len(toks)
    angle = 0
    while k < n:
        t = toks[k]
        if t.kind == "p":
            if t.val in ("(", "[") and k in match:
                k = match[k] + 1
                continue
            if t.val == "<":
                angle += 1
            elif t.val == ">":
                angle -= 1
            elif t.val == "{" and angle <= 0:
                return match.get(k)
            elif t.val == "{" and k in match:  # a const generic argument
                k = match[k] + 1
                continue
            elif t.val in (";", "}"):
                return None
        k += 1
    return None


def _use_decl(info: FileInfo, toks: list[Tok], match: dict[int, int], depth: list[int], i: int, scope: Mod, module: Mod) -> int:
    n = len(toks)
    entries: list[UseEntry] = []
    k = parse_use_tree(toks, match, i + 1, [], entries)
    while k < n and not toks[k].is_p(";"):
        k += 1
    is_pub = i > 0 and toks[i - 1].is_kw("pub")
    if is_pub and module == () and scope == () and depth[i] == 0:
        info.root_pub_uses.extend(entries)
    for e in entries:
        if not e.segs:
            continue
        text = "use " + "::".join(e.segs) + ("::*" if e.name is None else "")
        info.refs.append(Ref(scope, e.segs, e.line, text, glob=e.name is None))
        if e.name is not None and e.name != "_":
            info.uses.setdefault((scope, e.name), (scope, e.segs))
    return k + 1


# --------------------------------------------------------------------------
# Crate model
# --------------------------------------------------------------------------


def module_of(src: Path, f: Path) -> Mod | None:
    rel = f.relative_to(src)
    parts = rel.parts
    if parts[0] == "bin":
        return None
    if len(parts) == 1 and parts[0] in ("lib.rs", "main.rs"):
        return ()
    if parts[-1] == "mod.rs":
        return tuple(parts[:-1])
    return tuple(parts[:-1]) + (rel.stem,)


class Crate:
    def __init__(self, src: Path):
        self.src = src
        self.files: dict[Mod, FileInfo] = {}
        self.errors: list[str] = []
        roots = [p for p in (src / "lib.rs", src / "main.rs") if p.exists()]
        root = roots[0] if roots else None
        for f in sorted(src.rglob("*.rs")):
            m = module_of(src, f)
            if m is None or (m == () and f != root) or m in self.files:
                continue
            try:
                text = f.read_text(encoding="utf-8")
                self.files[m] = parse_file(f, m, text)
            except (LexError, UnicodeDecodeError) as e:
                self.errors.append(f"{self.rel(f)}: cannot parse: {e}")
        # Test-only modules and their files.
        test_prefixes = set()
        for info in self.files.values():
            test_prefixes |= info.test_mods
            if info.is_test:
                test_prefixes.add(info.module)
        self.test_files = {
            m for m in self.files if any(m[: len(p)] == p for p in test_prefixes)
        }
        for m in self.test_files:
            del self.files[m]
        self.file_mods: set[Mod] = set(self.files)
        self.modules: set[Mod] = set(self.file_mods)
        self.uses: dict[tuple[Mod, str], tuple[Mod, list[str]]] = {}
        for info in self.files.values():
            self.modules |= info.inline_mods
            self.uses.update(info.uses)

    def rel(self, f: Path) -> str:
        try:
            return str(f.relative_to(self.src.parent))
        except ValueError:
            return str(f)

    # -- resolution ---------------------------------------------------------

    def to_abs(self, scope: Mod, segs: list[str], depth: int = 0) -> list[str] | None:
        """Path from the crate root, or None when it leaves the crate."""
        if not segs or depth > 12:
            return None
        first = segs[0]
        if first == "crate":
            return segs[1:]
        if first == "super":
            cur = list(scope)
            k = 0
            while k < len(segs) and segs[k] == "super":
                if not cur:
                    return None
                cur.pop()
                k += 1
            return cur + segs[k:]
        if first == "self":
            return list(scope) + segs[1:]
        if scope + (first,) in self.modules:
            return list(scope) + segs
        imported = self.uses.get((scope, first))
        if imported is not None and imported[1] != segs:
            base = self.to_abs(imported[0], imported[1], depth + 1)
            if base is not None:
                return base + segs[1:]
        return None

    def target(self, path: list[str], via: list[str], depth: int = 0) -> Mod:
        k = len(path)
        while k > 0 and tuple(path[:k]) not in self.modules:
            k -= 1
        m = tuple(path[:k])
        rest = path[k:]
        if rest and depth < 12:
            imported = self.uses.get((m, rest[0]))
            if imported is not None:
                base = self.to_abs(imported[0], imported[1])
                if base is not None and base != path[: k + 1]:
                    via.append("::".join(m) or "crate root")
                    return self.target(base + rest[1:], via, depth + 1)
        return m

    def file_mod(self, m: Mod) -> Mod:
        while m not in self.file_mods and m:
            m = m[:-1]
        return m

    def edges(self) -> dict[Mod, dict[tuple[Mod, Mod], tuple[str, int, str]]]:
        """For each parent module D: (child X, child Y) -> first example
        (file, line, text) of a reference from inside X to inside Y."""
        graphs: dict[Mod, dict[tuple[Mod, Mod], tuple[str, int, str]]] = {}
        for m in sorted(self.files):
            info = self.files[m]
            for r in info.refs:
                path = self.to_abs(r.scope, r.segs)
                if path is None:
                    continue
                via: list[str] = []
                tgt = self.file_mod(self.target(path, via))
                src = m
                c = 0
                while c < len(src) and c < len(tgt) and src[c] == tgt[c]:
                    c += 1
                if c == len(src) or c == len(tgt):
                    continue  # same module, ancestor or descendant
                edge = (src[: c + 1], tgt[: c + 1])
                g = graphs.setdefault(src[:c], {})
                if edge not in g:
                    text = r.text
                    if via:
                        text += "  [via " + ", ".join(via) + "]"
                    g[edge] = (self.rel(info.path), r.line, text)
        return graphs

    def parents(self) -> list[Mod]:
        """Modules with at least one child file module."""
        return sorted({m[:-1] for m in self.file_mods if m})


# --------------------------------------------------------------------------
# Checks
# --------------------------------------------------------------------------


def sccs(nodes: list[Mod], adj: dict[Mod, set[Mod]]) -> list[list[Mod]]:
    index: dict[Mod, int] = {}
    low: dict[Mod, int] = {}
    on: set[Mod] = set()
    stack: list[Mod] = []
    out: list[list[Mod]] = []
    counter = [0]

    def visit(v: Mod) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in sorted(adj.get(v, ())):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    sys.setrecursionlimit(max(1000, 4 * len(nodes) + 100))
    for v in sorted(nodes):
        if v not in index:
            visit(v)
    return [c for c in out if len(c) > 1]


def shortest_cycle(start: Mod, comp: set[Mod], adj: dict[Mod, set[Mod]]) -> list[Mod]:
    prev: dict[Mod, Mod] = {}
    frontier = [start]
    seen = {start}
    while frontier:
        nxt = []
        for v in frontier:
            for w in sorted(adj.get(v, ())):
                if w not in comp:
                    continue
                if w == start:
                    cyc = [v]
                    while cyc[-1] != start:
                        cyc.append(prev[cyc[-1]])
                    return list(reversed(cyc)) + [start]
                if w not in seen:
                    seen.add(w)
                    prev[w] = v
                    nxt.append(w)
        frontier = nxt
    return [start]


def name(m: Mod) -> str:
    return "::".join(m) if m else "crate"


def check_cycles(crate: Crate, report: bool, out: list[str]) -> int:
    graphs = crate.edges()
    violations = 0
    clean = []
    for d in crate.parents():
        children = sorted(m for m in crate.file_mods if len(m) == len(d) + 1 and m[: len(d)] == d)
        g = graphs.get(d, {})
        adj: dict[Mod, set[Mod]] = {}
        for a, b in g:
            adj.setdefault(a, set()).add(b)
        label = "children of the crate root" if not d else f"children of `{name(d)}`"
        if report:
            out.append(f"  graph: {label} ({len(children)} modules, {len(g)} edges)")
            for a in children:
                if adj.get(a):
                    out.append(f"    {a[-1]} -> " + ", ".join(b[-1] for b in sorted(adj[a])))
        comps = sccs(children, adj)
        if not comps:
            clean.append(label)
            continue
        for comp in comps:
            violations += 1
            cs = set(comp)
            out.append(f"  CYCLE among the {label}: {{{', '.join(c[-1] for c in comp)}}}")
            cyc = shortest_cycle(comp[0], cs, adj)
            out.append("    e.g. " + " -> ".join(c[-1] for c in cyc))
            for (a, b), (f, line, text) in sorted(g.items()):
                if a in cs and b in cs:
                    out.append(f"    {name(a)} -> {name(b)}    {f}:{line}    {text}")
    if not violations:
        out.append(f"  OK: no cycle ({len(clean)} graphs: " + "; ".join(clean) + ")")
    return violations


def check_fns(crate: Crate, limit: int, report: bool, out: list[str]) -> int:
    long_fns = []
    total = 0
    for m in sorted(crate.files):
        info = crate.files[m]
        for f in info.fns:
            total += 1
            if f.length > limit:
                long_fns.append((crate.rel(info.path), f))
    for path, f in long_fns:
        out.append(f"  TOO LONG: {path}:{f.line}  fn {f.name}  {f.length} lines (max {limit})")
    if not long_fns:
        out.append(f"  OK: all {total} fns have at most {limit} lines")
    elif report:
        out.append(f"  {len(long_fns)} of {total} fns are longer than {limit} lines")
    return len(long_fns)


def check_root(crate: Crate, limit: int, report: bool, out: list[str]) -> int:
    root = crate.files.get(())
    if root is None:
        out.append("  no src/lib.rs")
        return 0
    names: list[str] = []
    globs = []
    for e in root.root_pub_uses:
        if e.name is None:
            globs.append(e)
        elif e.name not in names:
            names.append(e.name)
    violations = 0
    for e in globs:
        violations += 1
        out.append(f"  GLOB: {crate.rel(root.path)}:{e.line}  pub use {'::'.join(e.segs)}::*")
    verdict = "OK" if len(names) <= limit else "TOO MANY"
    out.append(f"  {verdict}: {len(names)} names re-exported at the root (max {limit}):")
    line = "   "
    for nm in names:
        if len(line) + len(nm) + 2 > 79:
            out.append(line.rstrip())
            line = "   "
        line += " " + nm + ","
    if names:
        out.append(line.rstrip(","))
    if len(names) > limit:
        violations += 1
    return violations


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--src", type=Path, default=Path(__file__).resolve().parent.parent / "src")
    ap.add_argument("--report", action="store_true", help="print everything, always exit 0")
    ap.add_argument("--max-root-names", type=int, default=25)
    ap.add_argument("--max-fn-lines", type=int, default=80)
    args = ap.parse_args(argv)
    src = args.src.resolve()
    if not src.is_dir():
        print(f"check_structure: {args.src}: not a directory", file=sys.stderr)
        return 2
    crate = Crate(src)
    out: list[str] = [f"check_structure: {src} ({len(crate.files)} modules)"]
    total = len(crate.errors)
    for e in crate.errors:
        out.append(f"  PARSE ERROR: {e}")
    if crate.test_files and args.report:
        out.append("  test-only files skipped: " + ", ".join(sorted(name(m) for m in crate.test_files)))
    out.append("[1] module cycles")
    total += check_cycles(crate, args.report, out)
    out.append(f"[2] function length (max {args.max_fn_lines} lines)")
    total += check_fns(crate, args.max_fn_lines, args.report, out)
    out.append(f"[3] root re-exports (max {args.max_root_names} names)")
    total += check_root(crate, args.max_root_names, args.report, out)
    out.append(f"{total} violation(s)" if total else "OK: no violation")
    try:
        print("\n".join(out))
    except BrokenPipeError:
        pass
    if args.report:
        return 0
    return 1 if total else 0


if __name__ == "__main__":
    sys.exit(main())
