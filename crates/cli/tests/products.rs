//! `solocrm product …`, `purchase add --line` and `recommend` on the real binary: a tea
//! shop's catalogue, purchases with lines whose amount is their exact sum, sales by
//! product and category, and "bought together" recommendations.

mod common;

use common::Env;
use serde_json::Value;

fn shop() -> Env {
    let env = Env::new();
    env.init();
    env.ok(&[
        "product",
        "add",
        "TEA-LJ",
        "龙井茶 250g",
        "--price",
        "88.00",
        "--cost",
        "40.00",
        "--category",
        "茶叶",
    ]);
    env.ok(&[
        "product",
        "add",
        "TEA-PE",
        "普洱茶饼",
        "--price",
        "120.00",
        "--category",
        "茶叶",
    ]);
    env.ok(&[
        "product",
        "add",
        "CUP-01",
        "青瓷茶杯",
        "--price",
        "35.00",
        "--category",
        "茶具",
    ]);
    for name in ["王芳", "李雷", "张伟"] {
        env.ok(&["customer", "add", name, "--at", "2025-01-01"]);
    }
    env
}

#[test]
fn the_catalogue_is_added_listed_edited_and_archived() {
    let env = shop();
    let list = env.json(&["product", "list"]);
    let skus: Vec<&str> = list
        .as_array()
        .expect("a list")
        .iter()
        .map(|p| p["sku"].as_str().expect("sku"))
        .collect();
    assert_eq!(skus, ["CUP-01", "TEA-LJ", "TEA-PE"]);
    let tea = env.json(&["product", "show", "TEA-LJ"]);
    assert_eq!(tea["name"], "龙井茶 250g");
    assert_eq!(tea["category"], "茶叶");
    assert_eq!(tea["price"]["amount"], "88.00");
    // A second product with the same SKU, a SKU with a space, a negative price.
    let err = env.fails(
        &["product", "add", "TEA-LJ", "另一种", "--price", "1.00"],
        1,
    );
    assert!(err.contains("TEA-LJ"), "{err}");
    env.fails(&["product", "add", "TEA LJ", "空格", "--price", "1.00"], 1);
    env.fails(&["product", "add", "NEG", "负价", "--price", "-1.00"], 1);
    let edited = env.json(&[
        "product", "edit", "TEA-LJ", "--price", "92.00", "--clear", "cost",
    ]);
    assert_eq!(edited["price"]["amount"], "92.00");
    assert!(edited.get("cost").is_none());
    // Nothing to change is a usage error.
    env.fails(&["product", "edit", "TEA-LJ"], 2);
    // Unused: deleted. Named by a line: archived, hidden from the list, refused on lines.
    let gone = env.json(&["product", "remove", "TEA-PE"]);
    assert_eq!(gone["removed"], "deleted");
    env.ok(&[
        "purchase",
        "add",
        "#1",
        "--line",
        "CUP-01:2",
        "--at",
        "2025-02-01",
    ]);
    let kept = env.json(&["product", "remove", "CUP-01"]);
    assert_eq!(kept["removed"], "archived");
    assert_eq!(
        env.json(&["product", "list"]).as_array().map(Vec::len),
        Some(1)
    );
    assert_eq!(
        env.json(&["product", "list", "--archived"])
            .as_array()
            .map(Vec::len),
        Some(2)
    );
    let err = env.fails(&["purchase", "add", "#2", "--line", "CUP-01:1"], 1);
    assert!(err.contains("archived"), "{err}");
}

#[test]
fn purchase_lines_add_up_exactly_and_show_with_the_purchase() {
    let env = shop();
    // 2 × 88.00 − 6.00 + 1 × 35.00 = 205.00, the amount left out.
    let p = env.json(&[
        "purchase",
        "add",
        "#1",
        "--line",
        "TEA-LJ:2:88.00:6.00",
        "--line",
        "CUP-01:1",
        "--at",
        "2025-02-01",
    ]);
    assert_eq!(p["amount"]["amount"], "205.00");
    assert_eq!(p["lines"].as_array().map(Vec::len), Some(2));
    let id = p["id"].as_u64().expect("an id").to_string();
    let shown = env.json(&["purchase", "show", &id]);
    assert_eq!(shown["lines"][0]["sku"], "TEA-LJ");
    assert_eq!(shown["lines"][0]["discount"]["amount"], "6.00");
    let text = env.ok(&["purchase", "show", &id]);
    assert!(text.contains("CUP-01") && text.contains("170.00"), "{text}");
    // An amount that is not the sum of the lines is refused, and nothing is written.
    let err = env.fails(
        &["purchase", "add", "#1", "200.00", "--line", "CUP-01:1"],
        1,
    );
    assert!(err.contains("sum of its lines"), "{err}");
    assert_eq!(env.count("purchases"), 1);
    // Malformed lines are usage errors naming the line.
    let err = env.fails(&["purchase", "add", "#1", "--line", "CUP-01"], 2);
    assert!(err.contains("--line 1"), "{err}");
    env.fails(&["purchase", "add", "#1", "--line", "CUP-01:0"], 2);
    env.fails(&["purchase", "add", "#1", "--line", "CUP-01:1:abc"], 2);
    env.fails(&["purchase", "add", "#1", "--line", "NOPE:1"], 2);
    // A purchase without lines works as before.
    let plain = env.json(&["purchase", "add", "#2", "10.00"]);
    assert!(plain.get("lines").is_none());
}

#[test]
fn stats_and_recommendations_follow_what_was_bought_together() {
    let env = shop();
    // 王芳 and 李雷 buy tea with a cup; 张伟 buys only tea, twice.
    for who in ["#1", "#2"] {
        env.ok(&[
            "purchase", "add", who, "--line", "TEA-LJ:1", "--line", "CUP-01:1",
        ]);
    }
    env.ok(&["purchase", "add", "#3", "--line", "TEA-LJ:1"]);
    env.ok(&["purchase", "add", "#3", "--line", "TEA-LJ:2"]);
    let recs = env.json(&["recommend", "#3"]);
    let first: &Value = &recs[0];
    assert_eq!(first["sku"], "CUP-01");
    assert_eq!(first["name"], "青瓷茶杯");
    assert_eq!(first["together"], 2);
    // Nothing they already have.
    assert!(
        recs.as_array()
            .expect("a list")
            .iter()
            .all(|r| r["sku"] != "TEA-LJ")
    );
    let stats = env.json(&["product", "stats"]);
    let rows = stats["rows"].as_array().expect("rows");
    let tea = rows
        .iter()
        .find(|r| r["key"] == "TEA-LJ")
        .expect("tea sold");
    assert_eq!(tea["units"], 5);
    assert_eq!(tea["revenue"]["amount"], "440.00");
    // 5 × 40.00 cost: 440.00 − 200.00.
    assert_eq!(tea["margin"]["amount"], "240.00");
    assert_eq!(
        (tea["buyers"].as_u64(), tea["repeat_buyers"].as_u64()),
        (Some(3), Some(1))
    );
    let by_category = env.json(&["product", "stats", "--by", "category"]);
    let keys: Vec<&str> = by_category["rows"]
        .as_array()
        .expect("rows")
        .iter()
        .map(|r| r["key"].as_str().expect("a category"))
        .collect();
    assert_eq!(keys, ["茶具", "茶叶"]);
    assert_eq!(stats["products_per_customer"]["customers"], 3);
    env.fails(&["recommend", "#3", "--limit", "0"], 2);
    env.fails(&["product", "stats", "--by", "colour"], 2);
    let text = env.ok(&["--lang", "zh-CN", "recommend", "#3"]);
    assert!(text.contains("青瓷茶杯"), "{text}");
}
