//! `solocrm offer ...` and `purchase add --coupon` on the real binary: a coupon takes
//! its discount off the total exactly, is refused by name when expired, used up or not
//! for the customer (writing nothing), and `offer stats --json` counts it.

mod common;

use common::Env;

#[test]
fn a_coupon_discounts_a_purchase_and_is_refused_beyond_its_limits() {
    let env = Env::new();
    env.init();
    env.ok(&["customer", "add", "王芳"]);
    env.ok(&["customer", "add", "李雷", "--tag", "vip"]);
    let added = env.json(&[
        "offer",
        "add",
        "spring10",
        "--kind",
        "percent",
        "--value",
        "10",
        "--from",
        "2026-03-01",
        "--until",
        "2026-03-31",
        "--per-customer",
        "1",
        "--total",
        "2",
    ]);
    assert_eq!(added["code"], "SPRING10");
    env.ok(&[
        "offer",
        "add",
        "VIPGIFT",
        "--kind",
        "gift",
        "--value",
        "新春礼盒",
        "--from",
        "2026-03-01",
        "--until",
        "2026-03-31",
        "--segment",
        "tag = \"vip\"",
    ]);
    let bought = env.json(&[
        "purchase",
        "add",
        "#1",
        "99.99",
        "--coupon",
        "spring10",
        "--at",
        "2026-03-05",
    ]);
    assert_eq!(bought["purchase"]["amount"]["amount"], "89.99");
    assert_eq!(bought["redemption"]["discount"]["amount"], "10.00");
    // Used once by 王芳: her second use is refused, and nothing is written.
    let err = env.fails(
        &[
            "purchase",
            "add",
            "#1",
            "50",
            "--coupon",
            "SPRING10",
            "--at",
            "2026-03-06",
        ],
        1,
    );
    assert!(
        err.contains("SPRING10") && err.contains("already used"),
        "{err}"
    );
    // Expired after 31 March.
    let err = env.fails(
        &[
            "purchase",
            "add",
            "#2",
            "50",
            "--coupon",
            "SPRING10",
            "--at",
            "2026-04-01",
        ],
        1,
    );
    assert!(err.contains("expired"), "{err}");
    // Only for vip customers.
    let err = env.fails(
        &[
            "purchase",
            "add",
            "#1",
            "50",
            "--coupon",
            "VIPGIFT",
            "--at",
            "2026-03-07",
        ],
        1,
    );
    assert!(err.contains("only for customers where"), "{err}");
    env.ok(&[
        "purchase",
        "add",
        "#2",
        "20",
        "--coupon",
        "SPRING10",
        "--at",
        "2026-03-08",
    ]);
    env.ok(&["customer", "add", "韩梅梅"]);
    let err = env.fails(
        &[
            "purchase",
            "add",
            "#3",
            "20",
            "--coupon",
            "SPRING10",
            "--at",
            "2026-03-09",
        ],
        1,
    );
    assert!(err.contains("used up"), "{err}");
    let purchases = env.json(&["purchase", "list"]);
    assert_eq!(purchases.as_array().expect("a list").len(), 2);
    let stats = env.json(&["offer", "stats"]);
    let spring = &stats.as_array().expect("a list")[0];
    assert_eq!(spring["code"], "SPRING10");
    assert_eq!(spring["redemptions"], 2);
    assert_eq!(spring["revenue"]["amount"], "107.99");
    assert_eq!(spring["discount_cost"]["amount"], "12.00");
    assert_eq!(spring["incremental_buyers"], 2);
    let list = env.ok(&["offer", "list"]);
    assert!(list.contains("SPRING10") && list.contains("1/2"), "{list}");
    env.ok(&["offer", "end", "VIPGIFT"]);
    let shown = env.json(&["offer", "show", "vipgift"]);
    assert!(shown["offer"]["ended_at"].is_string(), "{shown}");
    // An unknown kind is a usage error with the closed list.
    let err = env.fails(
        &[
            "offer",
            "add",
            "X",
            "--kind",
            "bogus",
            "--value",
            "1",
            "--until",
            "2026-12-31",
        ],
        2,
    );
    assert!(err.contains("percent, amount, gift"), "{err}");
}
