#!/usr/bin/env python3
"""Tests for scripts/check_structure.py: python3 scripts/test_check_structure.py"""

from __future__ import annotations

import contextlib
import io
import sys
import tempfile
import textwrap
import unittest
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import check_structure as cs  # noqa: E402


class CrateCase(unittest.TestCase):
    def setUp(self) -> None:
        self._tmp = tempfile.TemporaryDirectory()
        self.addCleanup(self._tmp.cleanup)

    def crate(self, files: dict[str, str]) -> Path:
        src = Path(self._tmp.name) / "src"
        for rel, text in files.items():
            p = src / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_text(textwrap.dedent(text))
        if not (src / "lib.rs").exists():
            (src / "lib.rs").write_text("")
        return src

    def run_check(self, src: Path, *args: str) -> tuple[int, str]:
        buf = io.StringIO()
        with contextlib.redirect_stdout(buf):
            rc = cs.main(["--src", str(src), *args])
        return rc, buf.getvalue()

    def fns(self, text: str) -> dict[str, int]:
        info = cs.parse_file(Path("x.rs"), ("x",), textwrap.dedent(text))
        return {f.name: f.length for f in info.fns}

    def graphs(self, files: dict[str, str]):
        crate = cs.Crate(self.crate(files))
        return {
            cs.name(d): {(cs.name(a), cs.name(b)): ex for (a, b), ex in g.items()}
            for d, g in crate.edges().items()
        }


def body(n: int) -> str:
    """A fn spanning exactly n lines."""
    assert n >= 2
    return "fn f() {\n" + "    let _x = 1;\n" * (n - 2) + "}\n"


class LexerTest(CrateCase):
    def test_braces_in_literals_and_comments(self) -> None:
        text = r'''
        fn a() {
            let s = "}}}";
            let e = "\"}\\";
            let c = '}';
            let o = '{';
            let q = '\'';
            let u = '\u{7d}';
            let b = b'}';
            let bs = b"}";
            let r = r"}";
            let r1 = r#"}"{"#;
            let r2 = r##"a"#}"##;
            let br = br#"}"#;
            /* } /* nested { */ } */
            // }
        }
        fn b() {}
        '''
        self.assertEqual(self.fns(text), {"a": 16, "b": 1})

    def test_lifetimes_are_not_chars(self) -> None:
        text = """
        fn a<'a, 'b: 'a>(x: &'a str, y: &'b str) -> &'a str {
            'outer: loop { break 'outer; }
            let c = 'x';
            x
        }
        fn b(_: &'static str) {}
        """
        self.assertEqual(self.fns(text), {"a": 5, "b": 1})

    def test_multiline_string_counts_lines(self) -> None:
        text = 'fn a() {\n    let s = "one\n two }\n three";\n}\nfn b() {}\n'
        fns = cs.parse_file(Path("x.rs"), ("x",), text).fns
        self.assertEqual([(f.name, f.line, f.length) for f in fns], [("a", 1, 5), ("b", 6, 1)])

    def test_raw_identifiers(self) -> None:
        toks = cs.lex("r#fn r#type r#match")
        self.assertEqual([(t.kind, t.val, t.raw) for t in toks], [("id", "fn", True), ("id", "type", True), ("id", "match", True)])
        # `r#fn` is an identifier, not the keyword.
        self.assertEqual(self.fns("fn r#try() {}\nlet r#fn = 1;\n"), {"try": 1})

    def test_unterminated_string_is_a_parse_error(self) -> None:
        src = self.crate({"a.rs": 'fn a() { let s = "oops; }\n'})
        rc, out = self.run_check(src)
        self.assertEqual(rc, 1)
        self.assertIn("PARSE ERROR: src/a.rs", out)


    def test_unbalanced_brackets_are_a_parse_error(self) -> None:
        src = self.crate({"a.rs": "fn a() { let v = [1, 2; }\n"})
        rc, out = self.run_check(src, "--report")
        self.assertEqual(rc, 0)
        self.assertIn("PARSE ERROR: src/a.rs: cannot parse: unbalanced", out)


class FnLengthTest(CrateCase):
    def test_limit_is_inclusive(self) -> None:
        src = self.crate({"a.rs": body(80)})
        self.assertEqual(self.run_check(src)[0], 0)
        src = self.crate({"a.rs": body(81)})
        rc, out = self.run_check(src)
        self.assertEqual(rc, 1)
        self.assertIn("TOO LONG: src/a.rs:1  fn f  81 lines (max 80)", out)
        self.assertEqual(self.run_check(src, "--max-fn-lines", "81")[0], 0)

    def test_docs_and_attributes_are_not_counted(self) -> None:
        text = "/// doc {\n/// more }\n#[inline]\n#[allow(\n    dead_code\n)]\n" + body(80)
        src = self.crate({"a.rs": text})
        self.assertEqual(self.run_check(src)[0], 0)

    def test_fn_kinds(self) -> None:
        text = """
        pub async fn a() {
        }
        pub(crate) const fn b() -> u8 {
            1
        }
        unsafe fn c() {}
        pub extern "C" fn d() {}
        fn e<T>(t: T) -> u8
        where
            T: Fn(u8) -> u8,
        {
            t(1)
        }
        trait T {
            fn decl(&self);
            fn default_method(&self) -> u8 {
                0
            }
        }
        impl S {
            fn method(&self) {
                fn nested() {
                }
            }
        }
        """
        self.assertEqual(
            self.fns(text),
            {"a": 2, "b": 3, "c": 1, "d": 1, "e": 6, "default_method": 3, "method": 4, "nested": 2},
        )

    def test_fn_types_and_closures_are_not_fns(self) -> None:
        text = """
        fn a(cb: fn(u8) -> u8, ext: extern "C" fn(u8), b: Box<dyn Fn() -> u8>) -> fn() {
            let f = |x: u8| { x };
            let g: fn(u8) -> u8 = cb;
            type P = unsafe fn();
            helper
        }
        struct S { f: fn() -> u8 }
        macro_rules! m { ($n:ident) => { fn $n() {} }; }
        """
        self.assertEqual(self.fns(text), {"a": 6})

    def test_generic_braces_in_signature(self) -> None:
        text = "fn a<const N: usize>(x: [u8; N]) -> Wrap<{ N }> {\n    x\n}\n"
        self.assertEqual(self.fns(text), {"a": 3})

    def test_test_modules_are_excluded(self) -> None:
        long = body(100)
        src = self.crate(
            {
                "a.rs": f"#[cfg(test)]\nmod tests {{\n{long}}}\n"
                f"#[cfg(all(test, feature = \"x\"))]\n{long}"
                f"#[cfg(test)]\nimpl S {{\n{long}}}\n",
                "b.rs": "#[cfg(test)]\nmod tests;\n",
                "b/tests.rs": long,
                "c.rs": "#![cfg(test)]\n" + long,
            }
        )
        rc, out = self.run_check(src)
        self.assertEqual(rc, 0, out)

    def test_cfg_not_test_is_checked(self) -> None:
        src = self.crate({"a.rs": "#[cfg(not(test))]\n" + body(81)})
        self.assertEqual(self.run_check(src)[0], 1)
        src = self.crate({"a.rs": "#[cfg(any(test, feature = \"x\"))]\n" + body(81)})
        self.assertEqual(self.run_check(src)[0], 1)


class CycleTest(CrateCase):
    def test_top_level_cycle(self) -> None:
        src = self.crate(
            {
                "lib.rs": "mod a;\nmod b;\nuse a::A;\n",
                "a.rs": "use crate::b::B;\npub struct A;\n",
                "b.rs": "pub struct B;\nfn f() {\n    let _ = crate::a::A;\n}\n",
            }
        )
        rc, out = self.run_check(src)
        self.assertEqual(rc, 1)
        self.assertIn("CYCLE among the children of the crate root: {a, b}", out)
        self.assertIn("a -> b    src/a.rs:1    use crate::b::B", out)
        self.assertIn("b -> a    src/b.rs:3    crate::a::A", out)
        self.assertEqual(self.run_check(src, "--report")[0], 0)

    def test_comments_strings_and_doc_links_do_not_count(self) -> None:
        src = self.crate(
            {
                "a.rs": "use crate::b::B;\n",
                "b.rs": '//! See [`A`](crate::a::A).\n/// [`x`](crate::a::A)\n'
                '// crate::a::A\n/* use crate::a; */\nconst S: &str = "crate::a::A";\n'
                'const R: &str = r#"crate::a::A"#;\n#[doc = "crate::a::A"]\npub struct B;\n',
            }
        )
        self.assertEqual(self.run_check(src)[0], 0)

    def test_use_trees(self) -> None:
        g = self.graphs(
            {
                "a.rs": "use crate::{b::{self, B}, c::C as D};\n",
                "b.rs": "",
                "c.rs": "use crate::{d::*};\n",
                "d.rs": "",
            }
        )
        self.assertEqual(set(g["crate"]), {("a", "b"), ("a", "c"), ("c", "d")})

    def test_super_self_and_child_paths(self) -> None:
        src = self.crate(
            {
                "lib.rs": "mod k;\n",
                "k/mod.rs": "mod jwk;\nmod memory;\nmod parse;\nuse jwk::J;\nfn f() { parse::p(); }\n",
                "k/jwk.rs": "pub struct J;\nfn f() { super::parse::p(); }\n",
                "k/parse.rs": "use super::memory::M;\npub fn p() {}\n",
                "k/memory.rs": "pub struct M;\nuse self::inner::I;\nmod inner { pub struct I; use super::super::jwk::J; }\n",
            }
        )
        rc, out = self.run_check(src)
        self.assertEqual(rc, 1)
        self.assertIn("CYCLE among the children of `k`: {jwk, memory, parse}", out)
        self.assertIn("e.g. jwk -> parse -> memory -> jwk", out)
        self.assertIn("k::memory -> k::jwk    src/k/memory.rs:3    use super::super::jwk::J", out)
        # The parent using its children is no edge, and the root is no node.
        self.assertNotIn("CYCLE among the children of the crate root", out)

    def test_re_exports_are_followed(self) -> None:
        g = self.graphs(
            {
                "lib.rs": "mod a;\nmod b;\npub use b::Thing;\n",
                "a.rs": "fn f() -> crate::Thing { todo!() }\n",
                "b.rs": "pub struct Thing;\n",
                "k/mod.rs": "mod x;\nmod y;\npub use x::Foo;\nuse x::Bar;\n",
                "k/x.rs": "pub struct Foo;\npub struct Bar;\n",
                "k/y.rs": "use super::Foo;\nfn f() { let _ = super::Bar; }\n",
            }
        )
        self.assertEqual(g["crate"][("a", "b")][2], "crate::Thing  [via crate root]")
        self.assertEqual(g["k"][("k::y", "k::x")][2], "use super::Foo  [via k]")

    def test_imported_names_resolve(self) -> None:
        g = self.graphs(
            {
                "a.rs": "use crate::b;\nfn f() { b::g(); }\n",
                "b.rs": "pub fn g() {}\n",
                "c.rs": "use crate::b as bee;\nfn f() { bee::g(); }\n",
            }
        )
        self.assertEqual(g["crate"][("a", "b")][1], 1)
        self.assertIn(("c", "b"), g["crate"])

    def test_test_code_and_visibility_are_not_references(self) -> None:
        src = self.crate(
            {
                "a.rs": "use crate::b::B;\npub(in crate::b) struct A;\n",
                "b.rs": "pub struct B;\n#[cfg(test)]\nmod tests {\n    use crate::a::A;\n}\n"
                "#[cfg(test)]\nuse crate::a::A;\n#[cfg(test)]\nmod more;\n",
                "b/more.rs": "use crate::a::A;\n",
            }
        )
        rc, out = self.run_check(src)
        self.assertEqual(rc, 0, out)

    def test_extern_crate_named_like_a_module(self) -> None:
        # Inside `replay::redis`, `redis::` is the external crate.
        g = self.graphs(
            {
                "replay/mod.rs": "mod redis;\nmod memory;\nuse redis::R;\n",
                "replay/redis.rs": "use redis::Client;\nuse super::memory::M;\npub struct R;\n",
                "replay/memory.rs": "pub struct M;\n",
            }
        )
        self.assertEqual(set(g["replay"]), {("replay::redis", "replay::memory")})

    def test_macro_crate_paths(self) -> None:
        g = self.graphs({"a.rs": "macro_rules! m { () => { $crate::b::g() }; }\n", "b.rs": ""})
        self.assertIn(("a", "b"), g["crate"])


class RootTest(CrateCase):
    def lib(self, n: int, extra: str = "") -> Path:
        names = ", ".join(f"N{i}" for i in range(n))
        return self.crate({"lib.rs": f"mod a;\npub mod b;\npub use a::{{{names}}};\n{extra}", "a.rs": ""})

    def test_limit(self) -> None:
        self.assertEqual(self.run_check(self.lib(25))[0], 0)
        rc, out = self.run_check(self.lib(26))
        self.assertEqual(rc, 1)
        self.assertIn("TOO MANY: 26 names re-exported at the root (max 25):", out)
        self.assertIn("N25", out)
        self.assertEqual(self.run_check(self.lib(26), "--max-root-names", "26")[0], 0)

    def test_what_counts(self) -> None:
        extra = (
            "pub(crate) use a::Hidden;\nuse a::Private;\n"
            "#[cfg(feature = \"x\")]\npub use a::N0;\n"  # a duplicate counts once
            "pub use a::Real as Renamed;\npub use a::{inner::{self}};\n"
            "mod m { pub use crate::a::Nested; }\nfn f() { }\n"
        )
        rc, out = self.run_check(self.lib(23, extra))
        self.assertEqual(rc, 0, out)
        self.assertIn("OK: 25 names", out)
        self.assertIn("Renamed, inner", out)
        self.assertNotIn("Hidden", out)
        self.assertNotIn("Nested", out)

    def test_glob_fails(self) -> None:
        src = self.crate({"lib.rs": "mod a;\npub use a::*;\n", "a.rs": ""})
        rc, out = self.run_check(src)
        self.assertEqual(rc, 1)
        self.assertIn("GLOB: src/lib.rs:2  pub use a::*", out)


class CliTest(CrateCase):
    def test_clean_crate(self) -> None:
        src = self.crate({"lib.rs": "mod a;\npub use a::A;\n", "a.rs": "pub struct A;\n"})
        rc, out = self.run_check(src)
        self.assertEqual(rc, 0)
        self.assertIn("OK: no violation", out)

    def test_missing_src(self) -> None:
        with contextlib.redirect_stderr(io.StringIO()):
            self.assertEqual(cs.main(["--src", "/nonexistent/src"]), 2)


if __name__ == "__main__":
    unittest.main()
