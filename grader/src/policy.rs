//! The code policy for student files, checked before a submission is built.
//!
//! A lab solution needs none of the usual tools of tampering: `unsafe`,
//! foreign code, symbols placed by hand, leaving the process, the
//! environment, files and raw descriptors, compile-time file inclusion,
//! inline assembly, a global allocator. The files are parsed with a real
//! Rust parser (`syn`), so formatting and comments change nothing; every
//! macro body, including `macro_rules!` definitions and attributes wrapped
//! in `cfg_attr`, is scanned token by token, so a macro cannot smuggle a
//! refused construct past the check. Printing and `tracing` logs stay
//! allowed. The lab crates also `#![forbid(unsafe_code)]`, which the
//! compiler enforces on what the macros expand to.
//!
//! Student code also blocks, sleeps, tells time and draws random numbers
//! only through the kit's runtime facade, `labrt`: the std and crossbeam
//! items it replaces are refused (rule "only the runtime facade"), so the
//! same code can later run under a simulated scheduler and clock. The
//! handout's `clippy.toml` flags the same items while the student works.

use std::path::{Path, PathBuf};

use proc_macro2::{Delimiter, Spacing, Span, TokenStream, TokenTree};
use syn::visit::Visit;

/// One breach of the policy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Breach {
    /// The student file, relative to the workspace.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// The rule broken.
    pub rule: &'static str,
    /// What was found.
    pub found: String,
}

impl std::fmt::Display for Breach {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{}:{}: {} ({})",
            self.file.display(),
            self.line,
            self.found,
            self.rule
        )
    }
}

/// The rules, as the handout states them.
pub const RULES: &[(&str, &str)] = &[
    (
        "no unsafe code",
        "`unsafe` blocks, functions, impls and traits",
    ),
    ("no foreign code", "`extern` blocks and `extern crate`"),
    (
        "no hand-placed symbols",
        "`#[no_mangle]`, `#[export_name]`, `#[link_section]`, `#[link]`, `#[used]`, `#[global_allocator]`",
    ),
    (
        "no leaving the process",
        "`std::process` (exit, abort, spawning commands)",
    ),
    ("no environment", "`std::env`, `env!`, `option_env!`"),
    (
        "no files or descriptors",
        "`std::fs`, `std::os` (raw descriptors), `std::net`, `#[path]`, `mod name;` (a module in another file: keep modules inline, `mod name { ... }`)",
    ),
    (
        "no compile-time inclusion",
        "`include!`, `include_str!`, `include_bytes!`",
    ),
    (
        "no inline assembly",
        "`asm!`, `global_asm!`, `naked_asm!`, `std::arch`",
    ),
    (
        "no renamed standard library",
        "`use std as ...`, `extern crate std as ...`",
    ),
    (
        FACADE_RULE,
        "`std::thread`, `std::sync::{Mutex, Condvar, RwLock, Barrier, Once, OnceLock, LazyLock, mpsc, atomic}`, \
         `std::time::{Instant, SystemTime}`, `crossbeam_channel`, `parking_lot`, \
         `rand::thread_rng`, `rand::random`: use `labrt::thread`, `labrt::sync`, \
         `labrt::channel`, `labrt::time` and `labrt::rand` instead",
    ),
];

/// The rule that keeps student code on the runtime facade.
const FACADE_RULE: &str = "only the runtime facade";

/// Paths (as their first segments) that block, sleep, tell time or draw
/// randomness behind the facade's back, with what to use instead.
const OFF_FACADE: &[(&[&str], &str)] = &[
    (&["std", "thread"], "labrt::thread"),
    (&["std", "sync", "Mutex"], "labrt::sync::Mutex"),
    (&["std", "sync", "MutexGuard"], "labrt::sync::MutexGuard"),
    (&["std", "sync", "Condvar"], "labrt::sync::Condvar"),
    (&["std", "sync", "RwLock"], "labrt::sync::RwLock"),
    (
        &["std", "sync", "Barrier"],
        "labrt::sync and labrt::channel",
    ),
    (&["std", "sync", "Once"], "labrt::sync::Once"),
    (&["std", "sync", "OnceLock"], "labrt::sync::OnceLock"),
    (&["std", "sync", "LazyLock"], "labrt::sync::LazyLock"),
    (&["std", "sync", "mpsc"], "labrt::channel"),
    (&["std", "sync", "atomic"], "labrt::sync::atomic"),
    (&["std", "time", "Instant"], "labrt::time::Instant"),
    (&["std", "time", "SystemTime"], "labrt::time::Instant"),
    (&["crossbeam_channel"], "labrt::channel"),
    (&["crossbeam"], "labrt::channel and labrt::sync"),
    (&["parking_lot"], "labrt::sync"),
    (
        &["rand", "thread_rng"],
        "labrt::rand, seeded from Raft::new's seed",
    ),
    (
        &["rand", "random"],
        "labrt::rand, seeded from Raft::new's seed",
    ),
];

/// Attributes that place symbols or code by hand, or read other files.
const ATTRIBUTES: &[(&str, &str)] = &[
    ("no_mangle", "no hand-placed symbols"),
    ("export_name", "no hand-placed symbols"),
    ("link_section", "no hand-placed symbols"),
    ("link", "no hand-placed symbols"),
    ("link_name", "no hand-placed symbols"),
    ("used", "no hand-placed symbols"),
    ("global_allocator", "no hand-placed symbols"),
    ("naked", "no inline assembly"),
    ("path", "no files or descriptors"),
];

/// Macros whose use is refused.
const MACROS: &[(&str, &str)] = &[
    ("include", "no compile-time inclusion"),
    ("include_str", "no compile-time inclusion"),
    ("include_bytes", "no compile-time inclusion"),
    ("env", "no environment"),
    ("option_env", "no environment"),
    ("asm", "no inline assembly"),
    ("global_asm", "no inline assembly"),
    ("naked_asm", "no inline assembly"),
];

/// Modules of the standard library that are refused, after `std`, `core`
/// or `alloc`.
const MODULES: &[(&str, &str)] = &[
    ("process", "no leaving the process"),
    ("env", "no environment"),
    ("fs", "no files or descriptors"),
    ("os", "no files or descriptors"),
    ("net", "no files or descriptors"),
    ("arch", "no inline assembly"),
];

const ROOTS: &[&str] = &["std", "core", "alloc"];

fn lookup(table: &[(&str, &'static str)], name: &str) -> Option<&'static str> {
    table.iter().find(|(n, _)| *n == name).map(|(_, r)| *r)
}

fn line_of(span: Span) -> usize {
    span.start().line
}

struct Checker<'a> {
    file: &'a Path,
    found: Vec<Breach>,
}

impl Checker<'_> {
    fn breach(&mut self, span: Span, rule: &'static str, found: impl Into<String>) {
        self.found.push(Breach {
            file: self.file.to_path_buf(),
            line: line_of(span),
            rule,
            found: found.into(),
        });
    }

    /// Checks a path given as its segments' names.
    fn check_path(&mut self, span: Span, names: &[String]) {
        for pair in names.windows(2) {
            if ROOTS.contains(&pair[0].as_str())
                && let Some(rule) = lookup(MODULES, &pair[1])
            {
                self.breach(span, rule, format!("`{}::{}`", pair[0], pair[1]));
            }
        }
        self.check_facade(span, names);
    }

    /// Refuses a path that starts with one of [`OFF_FACADE`]'s (`core::`
    /// and a leading `::` count as `std::`). Only whole prefixes count, so
    /// `use std::sync;` alone is fine and `sync::Mutex` after it is caught
    /// where `std::sync::Mutex` would be: at the `use` that names it.
    fn check_facade(&mut self, span: Span, names: &[String]) {
        let names: Vec<&str> = names
            .iter()
            .map(|n| if n == "core" { "std" } else { n.as_str() })
            .collect();
        for (prefix, instead) in OFF_FACADE {
            if names.len() >= prefix.len() && names[..prefix.len()] == **prefix {
                self.breach(
                    span,
                    FACADE_RULE,
                    format!("`{}`: use `{instead}`", prefix.join("::")),
                );
                return;
            }
        }
    }

    /// Scans raw tokens (a macro's body, an attribute's arguments) for
    /// anything refused, whatever the macro will make of them.
    fn scan_tokens(&mut self, tokens: TokenStream) {
        let trees: Vec<TokenTree> = tokens.into_iter().collect();
        for (i, tree) in trees.iter().enumerate() {
            match tree {
                TokenTree::Group(g) => self.scan_tokens(g.stream()),
                TokenTree::Ident(id) => {
                    let name = id.to_string();
                    let next_is_bang =
                        matches!(trees.get(i + 1), Some(TokenTree::Punct(p)) if p.as_char() == '!');
                    let next_is_path = matches!(
                        (trees.get(i + 1), trees.get(i + 2)),
                        (Some(TokenTree::Punct(a)), Some(TokenTree::Punct(b)))
                            if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':'
                    );
                    let starts_path = i < 2
                        || !matches!(
                            (&trees[i - 2], &trees[i - 1]),
                            (TokenTree::Punct(a), TokenTree::Punct(b))
                                if a.as_char() == ':' && b.as_char() == ':'
                        );
                    if next_is_path && starts_path {
                        self.check_facade(id.span(), &path_from(&trees[i..]));
                    }
                    let loads_a_file = name == "mod"
                        && matches!(trees.get(i + 1), Some(TokenTree::Ident(_)))
                        && matches!(trees.get(i + 2), Some(TokenTree::Punct(p)) if p.as_char() == ';');
                    if loads_a_file {
                        self.breach(
                            id.span(),
                            "no files or descriptors",
                            "`mod name;` in a macro's tokens (loads another file)",
                        );
                    } else if name == "unsafe" {
                        self.breach(id.span(), "no unsafe code", "`unsafe` in a macro's tokens");
                    } else if name == "extern" {
                        self.breach(id.span(), "no foreign code", "`extern` in a macro's tokens");
                    } else if let Some(rule) = lookup(ATTRIBUTES, &name)
                        .filter(|_| name != "path" && name != "link" && name != "used")
                    {
                        self.breach(id.span(), rule, format!("`{name}` in a macro's tokens"));
                    } else if next_is_bang && let Some(rule) = lookup(MACROS, &name) {
                        self.breach(id.span(), rule, format!("`{name}!`"));
                    } else if next_is_path
                        && ROOTS.contains(&name.as_str())
                        && let Some(TokenTree::Ident(module)) = trees.get(i + 3)
                        && let Some(rule) = lookup(MODULES, &module.to_string())
                    {
                        self.breach(
                            id.span(),
                            rule,
                            format!("`{name}::{module}` in a macro's tokens"),
                        );
                    }
                }
                TokenTree::Punct(p) if p.as_char() == '#' => {
                    // An attribute inside a macro body: `#[name ...]`.
                    if let Some(TokenTree::Group(g)) = trees.get(i + 1)
                        && g.delimiter() == Delimiter::Bracket
                    {
                        self.scan_attribute_tokens(g.stream());
                    }
                }
                _ => {}
            }
        }
    }

    /// Checks an attribute's tokens: its name, and every name inside it
    /// (so `cfg_attr(..., no_mangle)` and `unsafe(no_mangle)` are caught).
    fn scan_attribute_tokens(&mut self, tokens: TokenStream) {
        for tree in tokens {
            match tree {
                TokenTree::Ident(id) => {
                    if let Some(rule) = lookup(ATTRIBUTES, &id.to_string()) {
                        self.breach(id.span(), rule, format!("attribute `{id}`"));
                    }
                }
                TokenTree::Group(g) => self.scan_attribute_tokens(g.stream()),
                _ => {}
            }
        }
    }
}

impl<'ast> Visit<'ast> for Checker<'_> {
    fn visit_attribute(&mut self, attr: &'ast syn::Attribute) {
        self.scan_attribute_tokens(meta_tokens(&attr.meta));
    }

    fn visit_expr_unsafe(&mut self, e: &'ast syn::ExprUnsafe) {
        self.breach(e.unsafe_token.span, "no unsafe code", "`unsafe` block");
        syn::visit::visit_expr_unsafe(self, e);
    }

    fn visit_signature(&mut self, sig: &'ast syn::Signature) {
        if let Some(u) = &sig.unsafety {
            self.breach(
                u.span,
                "no unsafe code",
                format!("`unsafe fn {}`", sig.ident),
            );
        }
        if let Some(abi) = &sig.abi {
            self.breach(
                abi.extern_token.span,
                "no foreign code",
                "an `extern` function",
            );
        }
        syn::visit::visit_signature(self, sig);
    }

    fn visit_item_impl(&mut self, i: &'ast syn::ItemImpl) {
        if let Some(u) = &i.unsafety {
            self.breach(u.span, "no unsafe code", "`unsafe impl`");
        }
        syn::visit::visit_item_impl(self, i);
    }

    fn visit_item_trait(&mut self, i: &'ast syn::ItemTrait) {
        if let Some(u) = &i.unsafety {
            self.breach(u.span, "no unsafe code", "`unsafe trait`");
        }
        syn::visit::visit_item_trait(self, i);
    }

    fn visit_item_foreign_mod(&mut self, i: &'ast syn::ItemForeignMod) {
        self.breach(
            i.abi.extern_token.span,
            "no foreign code",
            "an `extern` block",
        );
        syn::visit::visit_item_foreign_mod(self, i);
    }

    fn visit_item_mod(&mut self, i: &'ast syn::ItemMod) {
        if i.content.is_none() {
            self.breach(
                i.mod_token.span,
                "no files or descriptors",
                format!("`mod {};` (loads another file)", i.ident),
            );
        }
        syn::visit::visit_item_mod(self, i);
    }

    fn visit_item_extern_crate(&mut self, i: &'ast syn::ItemExternCrate) {
        self.breach(
            i.extern_token.span,
            "no foreign code",
            format!("`extern crate {}`", i.ident),
        );
        syn::visit::visit_item_extern_crate(self, i);
    }

    fn visit_use_tree(&mut self, tree: &'ast syn::UseTree) {
        let mut names = Vec::new();
        self.walk_use(tree, &mut names);
    }

    fn visit_path(&mut self, path: &'ast syn::Path) {
        let names: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let span = path
            .segments
            .first()
            .map_or_else(Span::call_site, |s| s.ident.span());
        self.check_path(span, &names);
        syn::visit::visit_path(self, path);
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        let name = mac
            .path
            .segments
            .last()
            .map(|s| s.ident.to_string())
            .unwrap_or_default();
        let span = mac
            .path
            .segments
            .last()
            .map_or_else(Span::call_site, |s| s.ident.span());
        if let Some(rule) = lookup(MACROS, &name) {
            self.breach(span, rule, format!("`{name}!`"));
        }
        self.scan_tokens(mac.tokens.clone());
        syn::visit::visit_macro(self, mac);
    }
}

impl Checker<'_> {
    fn walk_use(&mut self, tree: &syn::UseTree, names: &mut Vec<String>) {
        match tree {
            syn::UseTree::Path(p) => {
                names.push(p.ident.to_string());
                self.check_path(p.ident.span(), names);
                self.walk_use(&p.tree, names);
                names.pop();
            }
            syn::UseTree::Name(n) => {
                names.push(n.ident.to_string());
                self.check_path(n.ident.span(), names);
                names.pop();
            }
            syn::UseTree::Rename(r) => {
                let renamed_root = (names.is_empty()
                    && ROOTS.contains(&r.ident.to_string().as_str()))
                    || (r.ident == "self"
                        && names.len() == 1
                        && ROOTS.contains(&names[0].as_str()));
                if renamed_root {
                    self.breach(
                        r.ident.span(),
                        "no renamed standard library",
                        format!("`{} as {}`", r.ident, r.rename),
                    );
                }
                names.push(r.ident.to_string());
                self.check_path(r.ident.span(), names);
                names.pop();
            }
            syn::UseTree::Glob(_) => {}
            syn::UseTree::Group(g) => {
                for t in &g.items {
                    self.walk_use(t, names);
                }
            }
        }
    }
}

/// The path `a::b::c` that starts at `trees[0]`, as its segments' names.
fn path_from(trees: &[TokenTree]) -> Vec<String> {
    let mut names = Vec::new();
    let mut rest = trees;
    while let Some(TokenTree::Ident(id)) = rest.first() {
        names.push(id.to_string());
        match rest {
            [_, TokenTree::Punct(a), TokenTree::Punct(b), tail @ ..]
                if a.as_char() == ':' && a.spacing() == Spacing::Joint && b.as_char() == ':' =>
            {
                rest = tail;
            }
            _ => break,
        }
    }
    names
}

/// An attribute's tokens as the parser saw them (its path, then its
/// arguments), without needing `quote`.
fn meta_tokens(meta: &syn::Meta) -> TokenStream {
    let path = match meta {
        syn::Meta::Path(p) => p,
        syn::Meta::List(l) => &l.path,
        syn::Meta::NameValue(nv) => &nv.path,
    };
    let mut tokens: TokenStream = path
        .segments
        .iter()
        .map(|s| TokenTree::Ident(s.ident.clone()))
        .collect();
    if let syn::Meta::List(l) = meta {
        tokens.extend(l.tokens.clone());
    }
    tokens
}

/// The breaches of the policy in one student file's `text`; `file` names it
/// in the findings. A file that does not parse has none here: the build
/// reports it, with the compiler's message.
pub fn check_file(file: &Path, text: &str) -> Vec<Breach> {
    let Ok(ast) = syn::parse_file(text) else {
        return Vec::new();
    };
    let mut checker = Checker {
        file,
        found: Vec::new(),
    };
    checker.visit_file(&ast);
    checker.found.sort_by_key(|b| b.line);
    checker.found.dedup();
    checker.found
}

/// The policy as the student handout states it.
pub fn handout_text() -> String {
    let mut s = String::from(
        "## Code policy\n\n\
         Grading refuses, before building, a submission whose files use what a lab solution\n\
         never needs and tampering always does. The check parses your files (comments and\n\
         formatting change nothing) and looks inside macros too; each refusal names the file,\n\
         the line and the rule. Printing and `tracing` logs are fine.\n\n",
    );
    for (rule, what) in RULES {
        s.push_str(&format!("- {rule}: {what}\n"));
    }
    s.push_str(
        "\nEach lab folder has a `clippy.toml` that makes `cargo clippy -p LAB` warn at every\n\
         use of the items the runtime-facade rule refuses, naming the `labrt` item to use, so\n\
         you hear of it while you work rather than when you submit.\n",
    );
    s.push('\n');
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules_in(text: &str) -> Vec<(&'static str, usize)> {
        check_file(Path::new("x.rs"), text)
            .into_iter()
            .map(|b| (b.rule, b.line))
            .collect()
    }

    #[test]
    fn an_honest_solution_passes() {
        let text = r#"
use std::collections::BTreeMap;
use std::sync::Arc;
use labrt::sync::Mutex;
use labrt::rand;
fn r(seed: u64) -> u64 { rand::seeded(seed, 1).next_u64() }
/// A server.
pub struct S { m: Mutex<BTreeMap<String, String>> }
impl S {
    pub fn get(&self, k: &str) -> Option<String> {
        println!("get {k}");
        tracing::debug!(target: "server", "get {k}");
        self.m.lock().unwrap_or_else(|e| e.into_inner()).get(k).cloned()
    }
}
fn process(x: u64) -> u64 { let env = x; env + 1 }
mod helpers { pub fn one() -> u64 { 1 } }
"#;
        assert_eq!(rules_in(text), vec![]);
    }

    #[test]
    fn each_refused_construct_is_named_with_its_line() {
        let cases: &[(&str, &str)] = &[
            ("fn f() { unsafe { } }", "no unsafe code"),
            ("unsafe fn f() {}", "no unsafe code"),
            ("unsafe impl Send for X {}", "no unsafe code"),
            ("extern \"C\" { fn g(); }", "no foreign code"),
            ("extern crate alloc;", "no foreign code"),
            ("#[no_mangle] fn f() {}", "no hand-placed symbols"),
            ("#[unsafe(no_mangle)] fn f() {}", "no hand-placed symbols"),
            (
                "#[cfg_attr(all(), export_name = \"x\")] fn f() {}",
                "no hand-placed symbols",
            ),
            (
                "#[link_section = \".init_array\"] static X: u8 = 0;",
                "no hand-placed symbols",
            ),
            (
                "#[global_allocator] static A: X = X;",
                "no hand-placed symbols",
            ),
            ("fn f() { std::process::exit(0) }", "no leaving the process"),
            ("use std::process;", "no leaving the process"),
            ("use std::{io, process::exit};", "no leaving the process"),
            (
                "fn f() { ::core::process::abort() }",
                "no leaving the process",
            ),
            (
                "fn f() -> String { std::env::var(\"X\").unwrap_or_default() }",
                "no environment",
            ),
            ("const X: &str = env!(\"HOME\");", "no environment"),
            (
                "const X: Option<&str> = option_env!(\"HOME\");",
                "no environment",
            ),
            (
                "fn f() { let _ = std::fs::read(\"/x\"); }",
                "no files or descriptors",
            ),
            ("use std::os::fd::FromRawFd;", "no files or descriptors"),
            (
                "#[path = \"reference/server.rs\"] mod s;",
                "no files or descriptors",
            ),
            ("mod reference;", "no files or descriptors"),
            (
                "macro_rules! m { () => { mod inner; } } m!();",
                "no files or descriptors",
            ),
            (
                "const X: &str = include_str!(\"/etc/passwd\");",
                "no compile-time inclusion",
            ),
            ("include!(\"other.rs\");", "no compile-time inclusion"),
            ("fn f() { std::arch::asm!(\"nop\") }", "no inline assembly"),
            ("use std as s;", "no renamed standard library"),
            ("use std::{self as s};", "no renamed standard library"),
            (
                "macro_rules! m { () => { std::process::exit(0) } }",
                "no leaving the process",
            ),
            ("macro_rules! m { () => { unsafe { } } }", "no unsafe code"),
            (
                "macro_rules! m { () => { #[no_mangle] fn f() {} } }",
                "no hand-placed symbols",
            ),
            (
                "macro_rules! m { () => { include_bytes!(\"x\") } }",
                "no compile-time inclusion",
            ),
            ("use std::thread;", FACADE_RULE),
            ("fn f() { std::thread::sleep(d) }", FACADE_RULE),
            ("use std::sync::{Arc, Mutex};", FACADE_RULE),
            ("use std::sync::{Arc, mpsc::channel};", FACADE_RULE),
            ("static X: std::sync::OnceLock<u8> = x();", FACADE_RULE),
            (
                "static X: std::sync::atomic::AtomicBool = x();",
                FACADE_RULE,
            ),
            ("fn f() { let t = std::time::Instant::now(); }", FACADE_RULE),
            ("use core::time::Instant;", FACADE_RULE),
            ("use std::time::{Duration, SystemTime};", FACADE_RULE),
            ("use crossbeam_channel::unbounded;", FACADE_RULE),
            ("fn f() { let r = rand::thread_rng(); }", FACADE_RULE),
            (
                "macro_rules! m { () => { std::thread::spawn(|| ()) } }",
                FACADE_RULE,
            ),
            ("fn f() { g!(std::time::Instant::now()) }", FACADE_RULE),
        ];
        for (text, rule) in cases {
            let text = format!("\n{text}\n");
            let found = rules_in(&text);
            assert!(
                found.iter().any(|(r, line)| r == rule && *line == 2),
                "{text:?}: expected {rule:?} at line 2, found {found:?}"
            );
        }
    }

    #[test]
    fn a_file_that_does_not_parse_is_left_to_the_compiler() {
        assert_eq!(rules_in("fn f( {"), vec![]);
    }

    #[test]
    fn the_handout_lists_every_rule() {
        let text = handout_text();
        for (rule, _) in RULES {
            assert!(text.contains(rule), "{rule}");
        }
    }
}
