//! The module layering of `solocrm-core`: no dependency cycles between its top-level
//! modules, and no domain, rules or metrics module reaching into the storage port.
//!
//! The test reads `src/**/*.rs`, collects every `crate::…` path (in `use` trees,
//! expressions, types and `$crate::` in macros), resolves each to the top-level module
//! that defines the item — following `pub use` re-exports, including the crate root's —
//! and builds a graph at top-level granularity (`metrics/*` is `metrics`, `models/*` is
//! `models`). Comments are skipped, so intra-doc links are not dependencies. `super::`
//! paths are not followed: every file is at most one level below its top-level module,
//! so `super::` never leaves it (`super::super::` from a test module inside
//! `models/x.rs` is still `models`).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// The storage layer: what the domain, rules and metrics must not refer to.
const STORAGE: &[&str] = &["store", "port", "ops"];

/// Edges into the storage layer that are allowed: none. `policy`, `care` and
/// `metrics` are pure; the operations layer (`ops`) reads for them and hands them
/// plain data. Never add an edge here: move the storage call into `ops` instead.
const ALLOWED_STORAGE_EDGES: &[(&str, &str)] = &[];

/// A directed graph of module names.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// Strips `//` and `/* */` comments and string literals, keeping line structure.
fn strip_comments_and_strings(src: &str) -> String {
    let mut out = String::with_capacity(src.len());
    let mut chars = src.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                chars.next();
                let mut prev = ' ';
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                    }
                    if prev == '*' && c == '/' {
                        break;
                    }
                    prev = c;
                }
                out.push(' ');
            }
            '"' => {
                // A plain string literal; escapes are skipped. (Raw strings holding a
                // `"` are not used in this crate's code.)
                while let Some(c) = chars.next() {
                    match c {
                        '\\' => {
                            chars.next();
                        }
                        '"' => break,
                        '\n' => out.push('\n'),
                        _ => {}
                    }
                }
                out.push_str("\"\"");
            }
            '\'' => {
                // A char literal ('a', '\n', '"') or a lifetime ('a). Copy a lifetime
                // through; drop a char literal so a quoted '"' cannot open a string.
                let rest: String = chars.clone().take(3).collect();
                let mut it = rest.chars();
                match (it.next(), it.next()) {
                    (Some('\\'), _) => {
                        chars.next();
                        chars.next();
                        for c in chars.by_ref() {
                            if c == '\'' {
                                break;
                            }
                        }
                        out.push_str("' '");
                    }
                    (Some(_), Some('\'')) => {
                        chars.next();
                        chars.next();
                        out.push_str("' '");
                    }
                    _ => out.push('\''),
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// A token of a path or `use` tree.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    Ident(String),
    Sep,
    Open,
    Close,
    Comma,
    Star,
    Other,
}

fn tokens(src: &str) -> Vec<Tok> {
    let mut out = Vec::new();
    let b: Vec<char> = src.chars().collect();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        if c.is_alphanumeric() || c == '_' || c == '$' {
            let start = i;
            while i < b.len() && (b[i].is_alphanumeric() || b[i] == '_' || b[i] == '$') {
                i += 1;
            }
            out.push(Tok::Ident(b[start..i].iter().collect()));
            continue;
        }
        if c == ':' && b.get(i + 1) == Some(&':') {
            out.push(Tok::Sep);
            i += 2;
            continue;
        }
        if !c.is_whitespace() {
            out.push(match c {
                '{' => Tok::Open,
                '}' => Tok::Close,
                ',' => Tok::Comma,
                '*' => Tok::Star,
                _ => Tok::Other,
            });
        }
        i += 1;
    }
    out
}

/// Parses a path or `use` tree starting at `toks[*i]` with `prefix` already read,
/// pushing every complete path. Stops at the first token that cannot continue it.
fn parse_tree(toks: &[Tok], i: &mut usize, prefix: Vec<String>, out: &mut Vec<Vec<String>>) {
    let mut path = prefix;
    loop {
        match toks.get(*i) {
            Some(Tok::Ident(name)) if name != "as" => {
                path.push(name.clone());
                *i += 1;
            }
            Some(Tok::Open) => {
                *i += 1;
                loop {
                    match toks.get(*i) {
                        Some(Tok::Close) => {
                            *i += 1;
                            return;
                        }
                        Some(Tok::Comma) => *i += 1,
                        None => return,
                        _ => {
                            let before = *i;
                            parse_tree(toks, i, path.clone(), out);
                            if *i == before {
                                *i += 1;
                            }
                        }
                    }
                }
            }
            Some(Tok::Star) => {
                *i += 1;
                out.push(path);
                return;
            }
            _ => {
                out.push(path);
                return;
            }
        }
        if toks.get(*i) == Some(&Tok::Sep) {
            *i += 1;
        } else {
            if toks.get(*i) == Some(&Tok::Ident("as".to_owned())) {
                *i += 2;
            }
            out.push(path);
            return;
        }
    }
}

/// Every `crate::…` path in `src`, without the leading `crate`, one per leaf of a `use`
/// tree (`use crate::{a::B, c}` gives `[a, B]` and `[c]`).
fn crate_paths(src: &str) -> Vec<Vec<String>> {
    let toks = tokens(&strip_comments_and_strings(src));
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        let is_crate = matches!(&toks[i], Tok::Ident(s) if s == "crate" || s == "$crate");
        if is_crate && toks.get(i + 1) == Some(&Tok::Sep) {
            i += 2;
            parse_tree(&toks, &mut i, Vec::new(), &mut out);
        } else {
            i += 1;
        }
    }
    out.retain(|p| !p.is_empty());
    out
}

/// The `pub use` re-exports of a file: `(name, full path from the crate root)`. In the
/// crate root, paths are relative (`pub use care::{…}`); elsewhere they start with
/// `crate::`.
fn reexports(src: &str, is_root: bool) -> Vec<(String, Vec<String>)> {
    let toks = tokens(&strip_comments_and_strings(src));
    let mut out = Vec::new();
    let mut i = 0;
    while i + 2 < toks.len() {
        let is_pub_use =
            toks[i] == Tok::Ident("pub".to_owned()) && toks[i + 1] == Tok::Ident("use".to_owned());
        if !is_pub_use {
            i += 1;
            continue;
        }
        i += 2;
        let mut paths = Vec::new();
        if toks[i] == Tok::Ident("crate".to_owned()) && toks.get(i + 1) == Some(&Tok::Sep) {
            i += 2;
            parse_tree(&toks, &mut i, Vec::new(), &mut paths);
        } else if is_root {
            parse_tree(&toks, &mut i, Vec::new(), &mut paths);
        }
        for p in paths {
            if let Some(last) = p.last() {
                out.push((last.clone(), p.clone()));
            }
        }
    }
    out
}

/// Knows the crate's top-level modules and their re-exports, and resolves a path to the
/// top-level module that defines its item.
struct Resolver {
    modules: BTreeSet<String>,
    /// `(module or "" for the root, name)` → the path it re-exports.
    reexports: BTreeMap<(String, String), Vec<String>>,
}

impl Resolver {
    fn resolve(&self, path: &[String]) -> Option<String> {
        let mut path = path.to_vec();
        for _ in 0..16 {
            let first = path.first()?;
            if self.modules.contains(first) {
                let Some(item) = path.get(1) else {
                    return Some(first.clone());
                };
                match self.reexports.get(&(first.clone(), item.clone())) {
                    Some(target) if target.first() != Some(first) => {
                        let mut next = target.clone();
                        next.extend(path[2..].iter().cloned());
                        path = next;
                    }
                    _ => return Some(first.clone()),
                }
            } else {
                let target = self.reexports.get(&(String::new(), first.clone()))?;
                let mut next = target.clone();
                next.extend(path[1..].iter().cloned());
                path = next;
            }
        }
        None
    }
}

/// The top-level module a source file belongs to (`metrics/rfm.rs` → `metrics`), or
/// `None` for the crate root.
fn top_module(rel: &Path) -> Option<String> {
    let first = rel.components().next()?.as_os_str().to_str()?.to_owned();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_owned();
    (name != "lib").then_some(name)
}

fn rust_files(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module graph of the crate in `src`.
fn crate_graph(src: &Path) -> Graph {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    files.sort();
    let mut texts = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(src).expect("under src").to_path_buf();
        let text = std::fs::read_to_string(f).expect("read source");
        texts.push((top_module(&rel), text));
    }
    let modules: BTreeSet<String> = texts.iter().filter_map(|(m, _)| m.clone()).collect();
    let mut resolver = Resolver {
        modules,
        reexports: BTreeMap::new(),
    };
    for (module, text) in &texts {
        let key = module.clone().unwrap_or_default();
        for (name, path) in reexports(text, module.is_none()) {
            resolver.reexports.insert((key.clone(), name), path);
        }
    }
    let mut graph = Graph::new();
    for (module, text) in &texts {
        let Some(module) = module else { continue };
        let deps = graph.entry(module.clone()).or_default();
        for path in crate_paths(text) {
            match resolver.resolve(&path) {
                Some(dep) if dep != *module => {
                    deps.insert(dep);
                }
                Some(_) => {}
                None => panic!("{module}: cannot resolve crate::{}", path.join("::")),
            }
        }
    }
    graph
}

/// The strongly connected components with more than one module (or a self-loop), each
/// sorted, found with Tarjan's algorithm.
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    struct State<'a> {
        graph: &'a Graph,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        out: Vec<Vec<String>>,
    }
    fn visit<'a>(s: &mut State<'a>, v: &'a str) {
        let n = s.index.len();
        s.index.insert(v, n);
        s.low.insert(v, n);
        s.stack.push(v);
        s.on_stack.insert(v);
        let succs: Vec<&'a str> = s
            .graph
            .get(v)
            .map(|d| d.iter().map(String::as_str).collect())
            .unwrap_or_default();
        for w in succs {
            if !s.index.contains_key(w) {
                visit(s, w);
                let lw = s.low[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(lw);
            } else if s.on_stack.contains(w) {
                let iw = s.index[w];
                let lv = s.low.get_mut(v).expect("visited");
                *lv = (*lv).min(iw);
            }
        }
        if s.low[v] == s.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = s.stack.pop() {
                s.on_stack.remove(w);
                comp.push(w.to_owned());
                if w == v {
                    break;
                }
            }
            let self_loop = s.graph.get(v).is_some_and(|d| d.contains(v));
            if comp.len() > 1 || self_loop {
                comp.sort();
                s.out.push(comp);
            }
        }
    }
    let mut s = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        out: Vec::new(),
    };
    for v in graph.keys() {
        if !s.index.contains_key(v.as_str()) {
            visit(&mut s, v);
        }
    }
    s.out.sort();
    s.out
}

/// One concrete cycle through `component`, e.g. `a -> b -> a`, for the failure message.
fn describe_cycle(graph: &Graph, component: &[String]) -> String {
    let inside: BTreeSet<&str> = component.iter().map(String::as_str).collect();
    let start = component[0].as_str();
    // Breadth-first from start's successors back to start, within the component.
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut frontier = vec![start];
    while !frontier.is_empty() {
        let mut next = Vec::new();
        for v in frontier {
            for w in graph.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !inside.contains(w) || came_from.contains_key(w) {
                    continue;
                }
                came_from.insert(w, v);
                if w == start {
                    let mut path = vec![start];
                    let mut cur = came_from[start];
                    while cur != start {
                        path.push(cur);
                        cur = came_from[cur];
                    }
                    path.push(start);
                    path.reverse();
                    return path.join(" -> ");
                }
                next.push(w);
            }
        }
        frontier = next;
    }
    component.join(", ")
}

/// The edges into the storage layer from outside it that are not allowed.
fn storage_violations(graph: &Graph, allowed: &[(&str, &str)]) -> Vec<String> {
    let mut out = Vec::new();
    for (from, deps) in graph {
        if STORAGE.contains(&from.as_str()) {
            continue;
        }
        for to in deps {
            let is_storage = STORAGE.contains(&to.as_str());
            if is_storage && !allowed.contains(&(from.as_str(), to.as_str())) {
                out.push(format!("{from} -> {to}"));
            }
        }
    }
    out
}

fn core_graph() -> Graph {
    crate_graph(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

#[test]
fn the_modules_of_core_form_no_cycle() {
    let graph = core_graph();
    let found: Vec<String> = cycles(&graph)
        .iter()
        .map(|c| format!("{} (cycle: {})", c.join(", "), describe_cycle(&graph, c)))
        .collect();
    assert!(
        found.is_empty(),
        "module cycles in solocrm-core:\n{}",
        found.join("\n")
    );
}

#[test]
fn domain_rules_and_metrics_do_not_reach_into_the_storage_port() {
    let graph = core_graph();
    let bad = storage_violations(&graph, ALLOWED_STORAGE_EDGES);
    assert!(
        bad.is_empty(),
        "modules outside the storage layer refer to it:\n{}",
        bad.join("\n")
    );
}

#[test]
fn the_allowlist_only_names_edges_that_still_exist() {
    // So that it shrinks: an edge that is gone must be taken off the list.
    let graph = core_graph();
    for (from, to) in ALLOWED_STORAGE_EDGES {
        assert!(
            graph.get(*from).is_some_and(|d| d.contains(*to)),
            "{from} -> {to} is allowed but no longer exists; remove it from ALLOWED_STORAGE_EDGES"
        );
    }
}

#[test]
fn the_graph_sees_the_known_dependencies() {
    // A sanity check on the scanner: it finds edges that certainly exist, and it
    // follows re-exports to the defining module.
    let graph = core_graph();
    let has = |a: &str, b: &str| graph.get(a).is_some_and(|d| d.contains(b));
    assert!(has("customer", "lifecycle"));
    assert!(has("store", "customer"));
    assert!(has("metrics", "purchase"));
    assert!(has("ops", "port"));
    // `crate::error::ValidationError` is defined in `validation`.
    assert!(has("text", "validation"));
    assert!(!has("text", "error"));
}

fn graph_of(edges: &[(&str, &str)]) -> Graph {
    let mut g = Graph::new();
    for (a, b) in edges {
        g.entry((*a).to_owned())
            .or_default()
            .insert((*b).to_owned());
        g.entry((*b).to_owned()).or_default();
    }
    g
}

#[test]
fn a_tiny_graph_with_a_cycle_is_caught_and_named() {
    let g = graph_of(&[("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("e", "e")]);
    let found = cycles(&g);
    assert_eq!(
        found,
        vec![
            vec!["a".to_owned(), "b".to_owned(), "c".to_owned()],
            vec!["e".to_owned()]
        ]
    );
    assert_eq!(describe_cycle(&g, &found[0]), "a -> b -> c -> a");
    assert_eq!(describe_cycle(&g, &found[1]), "e -> e");
    assert!(cycles(&graph_of(&[("a", "b"), ("b", "c"), ("a", "c")])).is_empty());
}

#[test]
fn a_storage_edge_is_caught_unless_allowed() {
    let g = graph_of(&[("policy", "store"), ("deal", "port"), ("store", "deal")]);
    assert_eq!(
        storage_violations(&g, &[("policy", "store")]),
        vec!["deal -> port"]
    );
}

#[test]
fn paths_are_read_from_use_trees_expressions_and_macros() {
    let src = r#"
        // use crate::commented::Out;
        /* crate::block::Out */
        use crate::{a::{B, c::D}, e as f};
        use crate::g::*;
        fn x() -> crate::h::T { $crate::i::j(); let s = "crate::k::L"; }
    "#;
    let paths: Vec<String> = crate_paths(src).iter().map(|p| p.join("::")).collect();
    assert_eq!(paths, ["a::B", "a::c::D", "e", "g", "h::T", "i::j"]);
}

#[test]
fn re_exports_are_followed_to_the_defining_module() {
    let resolver = Resolver {
        modules: ["error", "validation", "deal"]
            .into_iter()
            .map(str::to_owned)
            .collect(),
        reexports: [
            reexports(
                "pub use crate::validation::{NameList, ValidationError};",
                false,
            )
            .into_iter()
            .map(|(n, p)| (("error".to_owned(), n), p))
            .collect::<Vec<_>>(),
            reexports("pub use error::{Conflict, ValidationError};", true)
                .into_iter()
                .map(|(n, p)| ((String::new(), n), p))
                .collect(),
        ]
        .concat()
        .into_iter()
        .collect(),
    };
    let path = |s: &str| s.split("::").map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(
        resolver.resolve(&path("ValidationError")).as_deref(),
        Some("validation")
    );
    assert_eq!(
        resolver.resolve(&path("error::NameList")).as_deref(),
        Some("validation")
    );
    assert_eq!(
        resolver.resolve(&path("Conflict")).as_deref(),
        Some("error")
    );
    assert_eq!(
        resolver.resolve(&path("deal::Deal")).as_deref(),
        Some("deal")
    );
    assert_eq!(resolver.resolve(&path("Unknown")), None);
}
