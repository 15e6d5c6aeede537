//! The exchange formats: the lossless archive (`export all` / `import all`), the
//! customer CSV with every field, vCard and iCalendar (checked with an independent
//! parser, the `ical` crate), and the HubSpot and Google Contacts presets.

mod common;

use std::io::BufReader;
use std::path::PathBuf;

use common::Env;

fn fixture(name: &str) -> String {
    let path: PathBuf = [
        env!("CARGO_MANIFEST_DIR"),
        "tests",
        "fixtures",
        "exchange",
        name,
    ]
    .iter()
    .collect();
    path.to_str().expect("utf-8 path").to_owned()
}

fn read(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).expect("readable")
}

/// A second database in the same directory.
fn other(env: &Env, name: &str) -> PathBuf {
    env.path(name)
}

fn on(db: &std::path::Path, args: &[&str]) -> std::process::Output {
    common::run_on(db, args)
}

#[track_caller]
fn ok_on(db: &std::path::Path, args: &[&str]) -> String {
    let out = on(db, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8")
}

fn customers_json(db: &std::path::Path) -> serde_json::Value {
    let text = ok_on(db, &["--json", "customer", "list", "--limit", "10000"]);
    serde_json::from_str::<serde_json::Value>(&text).expect("json")["items"].clone()
}

/// A book with every kind of record: the demo business, one customer erased, a
/// segment and a Chinese customer with every field.
fn rich(env: &Env) {
    env.ok(&["-q", "demo", "--customers", "30", "--seed", "5"]);
    env.ok(&[
        "customer",
        "add",
        "张伟",
        "--email",
        "zhang.wei@example.cn",
        "--phone",
        "+86 138 0013 8000",
        "--company",
        "上海茶舍",
        "--city",
        "上海",
        "--country",
        "CN",
        "--birthday",
        "1988-02-29",
        "--notes",
        "喜欢龙井；\n春节前订礼盒",
        "--tag",
        "vip",
    ]);
    env.ok(&["customer", "erase", "#2", "--yes"]);
    env.ok(&["segment", "add", "上海常客", "city = 上海"]);
}

// ----- the archive -----

#[test]
fn export_all_import_all_export_all_is_identical() {
    let env = Env::new();
    rich(&env);
    let archive = env.path("books.json");
    env.ok(&["export", "all", "--out", archive.to_str().expect("utf-8")]);
    // Standard output holds the same document.
    assert_eq!(
        env.ok(&["export", "all", "--out", "-"]).as_bytes(),
        read(&archive)
    );
    let text = String::from_utf8(read(&archive)).expect("utf-8");
    assert!(text.starts_with("{\n  \"format\": \"solocrm-archive\",\n  \"version\": 1,"));

    let fresh = other(&env, "fresh.db");
    ok_on(
        &fresh,
        &["init", "--currency", "EUR", "--timezone", "Asia/Shanghai"],
    );
    let said = ok_on(&fresh, &["import", "all", archive.to_str().expect("utf-8")]);
    assert!(said.starts_with("restored "), "{said}");
    assert!(said.contains(" 31 customers, "), "{said}");
    let again = ok_on(&fresh, &["export", "all"]);
    assert_eq!(again, text, "the restored book exports differently");
    // The restored book is the same book: same id, zone, customers, CSV exports.
    let id = |db: &std::path::Path| {
        serde_json::from_str::<serde_json::Value>(&ok_on(db, &["--json", "settings", "show"]))
            .expect("json")["book_id"]
            .clone()
    };
    assert_eq!(id(&fresh), id(&env.db()));
    for what in ["customers", "purchases", "surveys"] {
        assert_eq!(
            ok_on(&fresh, &["export", what]),
            env.ok(&["export", what]),
            "{what}"
        );
    }
    // Everything known about each customer (consents, history, deals, points …),
    // read by another command than the archive's.
    for id in 1..=31 {
        let key = format!("#{id}");
        assert_eq!(
            ok_on(&fresh, &["customer", "export", &key]),
            env.ok(&["customer", "export", &key]),
            "{key}"
        );
    }
    assert_eq!(
        ok_on(&fresh, &["--json", "task", "list"]),
        env.ok(&["--json", "task", "list"])
    );

    // And from standard input.
    let piped = other(&env, "piped.db");
    ok_on(&piped, &["init", "--currency", "EUR"]);
    let out = common::command_on(&piped, &["-q", "import", "all", "-"])
        .stdin(std::fs::File::open(&archive).expect("open"))
        .output()
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "--quiet");
    assert_eq!(ok_on(&piped, &["export", "all"]), text);
}

#[test]
fn import_all_takes_only_an_empty_book_of_the_same_currency() {
    let env = Env::new();
    rich(&env);
    let archive = env.path("books.json");
    env.ok(&["export", "all", "--out", archive.to_str().expect("utf-8")]);
    let archive = archive.to_str().expect("utf-8");

    let full = other(&env, "full.db");
    ok_on(&full, &["init", "--currency", "EUR"]);
    ok_on(&full, &["customer", "add", "李娜"]);
    let before = read(&full);
    let err = String::from_utf8(on(&full, &["import", "all", archive]).stderr).expect("utf-8");
    assert!(err.contains("the book is not empty (1 customers)"), "{err}");
    assert_eq!(
        on(&full, &["import", "all", archive]).status.code(),
        Some(1)
    );
    assert_eq!(read(&full), before, "the database changed");

    let yuan = other(&env, "yuan.db");
    ok_on(&yuan, &["init", "--currency", "CNY"]);
    let out = on(&yuan, &["import", "all", archive]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).expect("utf-8");
    assert!(
        err.contains("the archive's books are kept in EUR, this book in CNY"),
        "{err}"
    );
    assert_eq!(customers_json(&yuan).as_array().map(Vec::len), Some(0));

    // --json says what was restored.
    let json_db = other(&env, "json.db");
    ok_on(&json_db, &["init", "--currency", "EUR"]);
    let said: serde_json::Value =
        serde_json::from_str(&ok_on(&json_db, &["--json", "import", "all", archive]))
            .expect("json");
    assert_eq!(said["counts"]["customers"], 31);
    assert_eq!(said["counts"]["segments"], 1);
    assert_eq!(said["counts"]["audit_entries"], 1);
    assert_eq!(said["book_id"].as_str().map(str::len), Some(16));

    let missing = env.path("missing.json");
    let out = on(&yuan, &["import", "all", missing.to_str().expect("utf-8")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read"));
}

#[test]
fn a_hand_edited_archive_fails_with_the_path_to_the_bad_row_and_writes_nothing() {
    let env = Env::new();
    rich(&env);
    let text = env.ok(&["export", "all"]);
    let fresh = other(&env, "fresh.db");
    ok_on(&fresh, &["init", "--currency", "EUR"]);
    let settings = ok_on(&fresh, &["--json", "settings", "show"]);
    let before = read(&fresh);

    let mut doc: serde_json::Value = serde_json::from_str(&text).expect("json");
    doc["customers"][3]["email"] = "not an email".into();
    let bad = env.write_str("bad.json", doc.to_string().as_bytes());
    let out = on(&fresh, &["import", "all", &bad]);
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8(out.stderr).expect("utf-8");
    assert!(err.contains("bad.json: customers[3].email: "), "{err}");

    let mut doc: serde_json::Value = serde_json::from_str(&text).expect("json");
    doc["purchases"][5]["customer"] = 999.into();
    let bad = env.write_str("bad2.json", doc.to_string().as_bytes());
    let err = String::from_utf8(on(&fresh, &["import", "all", &bad]).stderr).expect("utf-8");
    assert!(
        err.contains("purchases[5].customer: no customer 999 in the archive"),
        "{err}"
    );

    let mut doc: serde_json::Value = serde_json::from_str(&text).expect("json");
    doc["version"] = 2.into();
    let bad = env.write_str("bad3.json", doc.to_string().as_bytes());
    let err = String::from_utf8(on(&fresh, &["import", "all", &bad]).stderr).expect("utf-8");
    assert!(err.contains("version: version 2 is not 1"), "{err}");

    let bad = env.write_str("bad4.json", b"{\"format\": \"solocrm-archive\",");
    let out = on(&fresh, &["import", "all", &bad]);
    assert_eq!(out.status.code(), Some(1));

    assert_eq!(read(&fresh), before, "the database changed");
    assert_eq!(ok_on(&fresh, &["--json", "settings", "show"]), settings);
}

#[test]
fn formats_an_export_does_not_have_are_usage_errors() {
    let env = Env::new();
    env.init();
    for args in [
        &["export", "all", "--format", "csv"][..],
        &["export", "calendar", "--format", "json"],
        &["export", "purchases", "--format", "vcard"],
        &["export", "customers", "--format", "ics"],
        &["export", "customers", "--holiday", "春节=01-29"],
        &[
            "import",
            "customers",
            "x.csv",
            "--from",
            "hubspot",
            "--format",
            "vcard",
        ],
    ] {
        let err = env.fails(args, 2);
        assert!(err.contains("error:"), "{args:?}: {err}");
    }
    let err = env.fails(&["export", "all", "--format", "csv"], 2);
    assert!(
        err.contains("export all cannot be written as csv; its formats: json"),
        "{err}"
    );
    let err = env.fails(&["export", "calendar", "--holiday", "春节"], 1);
    assert!(err.contains("is not NAME=MM-DD"), "{err}");
}

// ----- the customer CSV -----

#[test]
fn the_customer_csv_carries_every_field_and_round_trips() {
    let env = Env::new();
    env.init();
    // Chinese headers for the new columns.
    let file = env.write_str(
        "customers.csv",
        "姓名,邮箱,电话,生日,国家,标签,渠道,编号,公司,省份,城市,获客成本,阶段,备注,出生年份,性别,收入,行业,兴趣,生活方式,价值观,属性\n\
         张伟,zhang.wei@example.cn,+86 138 0013 8000,1988-02-29,CN,vip;上海,微信,C-1,上海茶舍,上海市,上海,35.50,active,\"喜欢龙井，\n春节前订礼盒\",,male,upper_middle,零售,茶;书法,慢生活,传统,\"{\"\"会员等级\"\":\"\"金卡\"\",\"\"wechat\"\":\"\"zw_88\"\"}\"\n\
         李娜,,,,,,,C-2,,,杭州,,,,1990,female,,,,,,\n"
            .as_bytes(),
    );
    let said = env.ok(&["import", "customers", &file]);
    assert!(said.contains("2 created"), "{said}");
    let export = env.ok(&["export", "customers"]);
    let mut lines = export.lines();
    assert_eq!(
        lines.next(),
        Some(
            "name,email,phone,birthday,country,tags,channel,reference,company,region,city,cost,stage,notes,birth_year,gender,income_band,industry,interests,lifestyle,values,attributes,customer"
        )
    );
    assert!(
        export.contains(
            "张伟,zhang.wei@example.cn,'+86 138 0013 8000,1988-02-29,CN,vip;上海,微信,C-1,上海茶舍,上海市,上海,35.50,active,\"喜欢龙井，\n春节前订礼盒\",,male,upper_middle,零售,书法;茶,慢生活,传统,\"{\"\"wechat\"\":\"\"zw_88\"\",\"\"会员等级\"\":\"\"金卡\"\"}\",C-1\n"
        ),
        "{export}"
    );
    assert!(
        export.contains("李娜,,,,,,,C-2,,,杭州,,prospect,,1990,female,,,,,,,C-2\n"),
        "{export}"
    );
    // Into another book and out again: the same file.
    let copy = env.write_str("export.csv", export.as_bytes());
    let second = other(&env, "second.db");
    ok_on(&second, &["init", "--currency", "EUR"]);
    ok_on(&second, &["import", "customers", &copy]);
    assert_eq!(ok_on(&second, &["export", "customers"]), export);
    // Into the same book: nothing changes.
    let said = env.ok(&["import", "customers", &copy]);
    assert!(said.contains("0 created, 0 updated, 2 unchanged"), "{said}");
    // JSON has the same keys.
    let json = env.json(&["export", "customers", "--format", "json"]);
    assert_eq!(json[0]["cost"], "35.50");
    assert_eq!(json[0]["stage"], "active");
    assert_eq!(json[1]["city"], "杭州");
}

#[test]
fn bad_new_cells_are_refused_by_line_and_column_and_nothing_is_written() {
    let env = Env::new();
    env.init();
    for (cells, column) in [
        ("{not json}", "attributes"),
        ("-5", "cost"),
        ("martian", "gender"),
        ("1800", "birth_year"),
        ("eternal", "stage"),
    ] {
        let header = format!("name,{column}\n");
        let file = env.write_str(
            "bad.csv",
            format!("{header}王芳,\n张伟,\"{cells}\"\n").as_bytes(),
        );
        let err = env.fails(&["import", "customers", &file], 1);
        assert!(
            err.contains(":3:") && err.contains(column),
            "{column}: {err}"
        );
        assert_eq!(env.count("customers"), 0, "{column}");
    }
}

// ----- vCard -----

/// The properties of every card, as (name, params, value) by the `ical` crate.
fn parse_vcards(text: &str) -> Vec<Vec<ical::property::Property>> {
    ical::VcardParser::new(BufReader::new(text.as_bytes()))
        .map(|card| card.expect("a valid vCard").properties)
        .collect()
}

fn prop<'a>(
    card: &'a [ical::property::Property],
    name: &str,
) -> Option<&'a ical::property::Property> {
    card.iter().find(|p| p.name == name)
}

/// The text of a value, unescaped (RFC 6350 3.4).
fn unescape(v: &str) -> String {
    v.replace("\\n", "\n")
        .replace("\\,", ",")
        .replace("\\;", ";")
        .replace("\\\\", "\\")
}

#[track_caller]
fn assert_lines_are_folded(text: &str) {
    assert!(text.ends_with("\r\n"));
    for line in text.split("\r\n") {
        assert!(!line.contains('\n'), "a bare LF: {line:?}");
        assert!(line.len() <= 75, "{} octets: {line}", line.len());
    }
}

#[test]
fn vcards_parse_with_an_independent_parser_and_import_back() {
    let env = Env::new();
    rich(&env);
    let long_note =
        "客户喜欢绿茶，每年春节前订购礼盒；生日在二月二十九日，按三月一日祝贺。".repeat(3);
    env.ok(&[
        "customer",
        "add",
        "欧阳娜娜",
        "--reference",
        "WX-001",
        "--notes",
        &long_note,
        "--company",
        "杭州丝绸坊, 西湖分店",
    ]);
    let text = env.ok(&["export", "customers", "--format", "vcard"]);
    assert_lines_are_folded(&text);
    let cards = parse_vcards(&text);
    // Every customer but the erased one.
    assert_eq!(cards.len(), 31);
    let zhang = cards
        .iter()
        .find(|c| prop(c, "FN").and_then(|p| p.value.as_deref()) == Some("张伟"))
        .expect("张伟's card");
    let value = |name: &str| prop(zhang, name).and_then(|p| p.value.clone());
    assert_eq!(value("VERSION").as_deref(), Some("4.0"));
    assert_eq!(value("N").as_deref(), Some("张;伟;;;"));
    assert_eq!(value("EMAIL").as_deref(), Some("zhang.wei@example.cn"));
    assert_eq!(value("TEL").as_deref(), Some("+86 138 0013 8000"));
    let tel = prop(zhang, "TEL").expect("TEL");
    let params = tel.params.clone().unwrap_or_default();
    assert!(
        params
            .iter()
            .any(|(k, v)| k == "TYPE" && v.contains(&"voice".to_owned())),
        "{params:?}"
    );
    assert_eq!(value("ORG").as_deref(), Some("上海茶舍"));
    assert_eq!(value("ADR").as_deref(), Some(";;;上海;;;CN"));
    assert_eq!(value("BDAY").as_deref(), Some("19880229"));
    assert_eq!(value("CATEGORIES").as_deref(), Some("vip"));
    assert_eq!(
        value("NOTE").map(|n| unescape(&n)).as_deref(),
        Some("喜欢龙井；\n春节前订礼盒")
    );
    let uid = value("UID").expect("a UID");
    assert!(uid.starts_with("urn:uuid:"), "{uid}");
    let ouyang = cards
        .iter()
        .find(|c| prop(c, "FN").and_then(|p| p.value.as_deref()) == Some("欧阳娜娜"))
        .expect("欧阳娜娜's card");
    assert_eq!(
        prop(ouyang, "N").and_then(|p| p.value.as_deref()),
        Some("欧阳;娜娜;;;")
    );
    assert_eq!(
        prop(ouyang, "NOTE")
            .and_then(|p| p.value.as_deref())
            .map(unescape),
        Some(long_note.clone())
    );
    assert_eq!(
        prop(ouyang, "ORG")
            .and_then(|p| p.value.as_deref())
            .map(unescape),
        Some("杭州丝绸坊, 西湖分店".to_owned())
    );
    // Stable: the same UIDs on the next export.
    assert_eq!(env.ok(&["export", "customers", "--format", "vcard"]), text);

    // Back into the same book: every card names its customer.
    let file = env.write_str("contacts.vcf", text.as_bytes());
    let said = env.ok(&["import", "customers", &file]);
    assert!(
        said.contains("0 created, 0 updated, 31 unchanged"),
        "{said}"
    );
    // Into a new book: the customers with their contact data.
    let fresh = other(&env, "fresh.db");
    ok_on(&fresh, &["init", "--currency", "EUR"]);
    ok_on(&fresh, &["import", "customers", &file]);
    let list = customers_json(&fresh);
    assert_eq!(list.as_array().map(Vec::len), Some(31));
    let zhang = list
        .as_array()
        .and_then(|l| l.iter().find(|c| c["name"] == "张伟"))
        .expect("张伟");
    assert_eq!(zhang["email"], "zhang.wei@example.cn");
    assert_eq!(zhang["phone"], "+86 138 0013 8000");
    assert_eq!(zhang["company"], "上海茶舍");
    assert_eq!(zhang["birthday"], "1988-02-29");
    assert_eq!(zhang["profile"]["city"], "上海");
    assert_eq!(zhang["notes"], "喜欢龙井；\n春节前订礼盒");
    assert_eq!(zhang["tags"][0], "vip");
}

#[test]
fn a_phone_s_vcards_import_detected_by_extension_or_named_by_format() {
    let env = Env::new();
    env.init();
    let said = env.ok(&["import", "customers", &fixture("phone-contacts.vcf")]);
    assert!(said.contains("2 created"), "{said}");
    let list = customers_json(&env.db());
    let wang = &list[0];
    assert_eq!(wang["name"], "王芳");
    assert_eq!(wang["email"], "fang.wang@example.cn");
    assert_eq!(wang["phone"], "+86 137 0000 1111");
    assert_eq!(wang["company"], "杭州丝绸坊");
    assert_eq!(wang["profile"]["city"], "杭州");
    assert_eq!(wang["profile"]["region"], "浙江省");
    assert_eq!(wang["profile"]["country"], "CN");
    assert_eq!(wang["birthday"], "1990-03-08");
    assert_eq!(wang["notes"], "喜欢真丝围巾\n每年三八节前联系");
    assert_eq!(
        wang["profile"]["attributes"]["email-2"],
        "wangfang@silk.example.cn"
    );
    assert_eq!(wang["profile"]["attributes"]["phone-2"], "0571 8765 4321");
    assert_eq!(list[1]["phone"], "+49-151-2345678");

    // From standard input, --format says what it is.
    let vcf = std::fs::read(fixture("phone-contacts.vcf")).expect("fixture");
    let fresh = other(&env, "fresh.db");
    ok_on(&fresh, &["init", "--currency", "EUR"]);
    let out = common::command_on(&fresh, &["import", "customers", "-", "--format", "vcard"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().expect("stdin").write_all(&vcf)?;
            child.wait_with_output()
        })
        .expect("runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(customers_json(&fresh).as_array().map(Vec::len), Some(2));

    // --format csv reads a .vcf as CSV: its first line is no customers header.
    let err = env.fails(
        &[
            "import",
            "customers",
            &fixture("phone-contacts.vcf"),
            "--format",
            "csv",
        ],
        1,
    );
    assert!(err.contains("BEGIN:VCARD"), "{err}");

    // A broken card: nothing is written.
    let bad = env.write_str("bad.vcf", b"BEGIN:VCARD\r\nVERSION:4.0\r\nFN:x\r\n");
    let err = env.fails(&["import", "customers", &bad], 1);
    assert!(err.contains("the card has no END:VCARD"), "{err}");
    let bad = env.write_str("bad2.vcf", b"BEGIN:VCARD\r\nEMAIL:a@b.cn\r\nEND:VCARD\r\n");
    let err = env.fails(&["import", "customers", &bad], 1);
    assert!(err.contains("neither FN nor N"), "{err}");
    assert_eq!(env.count("customers"), 2);
}

// ----- iCalendar -----

#[test]
fn the_calendar_parses_with_an_independent_parser_and_keeps_its_uids() {
    let env = Env::new();
    env.init();
    env.ok(&["customer", "add", "张伟", "--birthday", "1988-02-29"]);
    env.ok(&["customer", "add", "李娜", "--birthday", "1990-11-30"]);
    env.ok(&["customer", "add", "王芳", "--birthday", "1985-01-01"]);
    env.ok(&["customer", "erase", "#3", "--yes"]);
    env.ok(&[
        "task",
        "add",
        "回访：确认春节礼盒数量, 颜色; 以及送货地址（很长的标题，用来测试折行不会把汉字切开）",
        "--due",
        "2026-12-03",
        "--customer",
        "#1",
    ]);
    env.ok(&[
        "task",
        "add",
        "报税",
        "--due",
        "2026-12-15",
        "--kind",
        "custom",
    ]);
    env.ok(&["task", "add", "已完成", "--due", "2026-12-01"]);
    env.ok(&["task", "done", "3"]);
    let args = [
        "export",
        "calendar",
        "--holiday",
        "元旦=01-01",
        "--holiday",
        "Leap day=02-29",
    ];
    let text = env.ok(&args);
    assert_lines_are_folded(&text);
    let calendars: Vec<_> = ical::IcalParser::new(BufReader::new(text.as_bytes()))
        .map(|c| c.expect("a valid calendar"))
        .collect();
    assert_eq!(calendars.len(), 1);
    let events = &calendars[0].events;
    let get = |e: &ical::parser::ical::component::IcalEvent, name: &str| {
        e.properties
            .iter()
            .find(|p| p.name == name)
            .and_then(|p| p.value.clone())
    };
    let summaries: Vec<String> = events
        .iter()
        .filter_map(|e| get(e, "SUMMARY"))
        .map(|s| unescape(&s))
        .collect();
    assert_eq!(
        summaries,
        [
            "Birthday: 张伟",
            "Birthday: 李娜",
            "元旦",
            "Leap day",
            "回访：确认春节礼盒数量, 颜色; 以及送货地址（很长的标题，用来测试折行不会把汉字切开） — 张伟",
            "报税"
        ]
    );
    let zhang = &events[0];
    assert_eq!(get(zhang, "DTSTART").as_deref(), Some("19880229"));
    assert_eq!(
        get(zhang, "RRULE").as_deref(),
        Some("FREQ=YEARLY;BYYEARDAY=60")
    );
    assert_eq!(get(&events[1], "RRULE").as_deref(), Some("FREQ=YEARLY"));
    assert_eq!(get(&events[4], "DTSTART").as_deref(), Some("20261203"));
    assert_eq!(get(&events[4], "CATEGORIES").as_deref(), Some("follow_up"));
    for e in events {
        assert!(get(e, "DTSTAMP").is_some());
        let uid = get(e, "UID").expect("a UID");
        assert!(uid.ends_with(".solocrm"), "{uid}");
    }
    let uids = |text: &str| -> Vec<String> {
        text.lines()
            .filter(|l| l.starts_with("UID:"))
            .map(str::to_owned)
            .collect()
    };
    assert_eq!(uids(&env.ok(&args)), uids(&text), "UIDs are stable");
    // Completing the task and exporting again keeps the other events' UIDs.
    env.ok(&["task", "done", "2"]);
    let after = uids(&env.ok(&args));
    assert_eq!(after.len(), uids(&text).len() - 1);
    assert!(after.iter().all(|u| uids(&text).contains(u)));
    // Into a file.
    let out = env.path("care.ics");
    env.ok(&["export", "calendar", "--out", out.to_str().expect("utf-8")]);
    assert!(
        String::from_utf8(read(&out))
            .expect("utf-8")
            .starts_with("BEGIN:VCALENDAR\r\n")
    );
}

// ----- presets -----

#[test]
fn a_hubspot_export_imports_and_reimports_unchanged() {
    let env = Env::new();
    env.init();
    let file = fixture("hubspot-contacts.csv");
    let said = env.ok(&["import", "customers", &file, "--from", "hubspot"]);
    assert!(said.contains("4 created"), "{said}");
    let list = customers_json(&env.db());
    let zhang = &list[0];
    assert_eq!(zhang["name"], "张伟");
    assert_eq!(zhang["external_ref"], "hubspot-51234567001");
    assert_eq!(zhang["email"], "zhang.wei@example.cn");
    assert_eq!(zhang["phone"], "+86 138 0013 8000");
    assert_eq!(zhang["company"], "上海茶舍有限公司");
    assert_eq!(zhang["profile"]["country"], "CN");
    assert_eq!(zhang["profile"]["region"], "上海市");
    assert_eq!(zhang["stage"], "active");
    assert_eq!(zhang["acquisition_channel"], "organic-search");
    assert_eq!(zhang["profile"]["attributes"]["email-2"], "zw88@qq.com");
    assert_eq!(
        zhang["profile"]["attributes"]["email-3"],
        "zhangwei@teahouse.cn"
    );
    assert_eq!(zhang["profile"]["attributes"]["phone-2"], "021 6888 1234");
    assert_eq!(zhang["profile"]["attributes"]["job-title"], "采购经理");
    assert_eq!(list[1]["name"], "陳美玲");
    assert_eq!(list[1]["stage"], "lead");
    assert_eq!(list[1]["profile"]["country"], "TW");
    assert_eq!(list[3]["name"], "newsletter-only@example.com");
    assert_eq!(list[3]["stage"], "prospect");
    let said = env.ok(&["import", "customers", &file, "--from", "hubspot"]);
    assert!(said.contains("0 created, 0 updated, 4 unchanged"), "{said}");

    // A file that is not HubSpot's: refused, nothing written.
    let other = env.write_str("other.csv", b"foo,bar\n1,2\n");
    let err = env.fails(&["import", "customers", &other, "--from", "hubspot"], 1);
    assert!(err.contains("is it a HubSpot contacts export?"), "{err}");
    assert_eq!(env.count("customers"), 4);
}

#[test]
fn a_google_contacts_export_with_chinese_names_and_several_emails_imports() {
    let env = Env::new();
    env.init();
    let file = fixture("google-contacts.csv");
    let dry = env.ok(&[
        "import",
        "customers",
        &file,
        "--from",
        "google-contacts",
        "--dry-run",
    ]);
    assert!(dry.contains("would import 4 created"), "{dry}");
    assert_eq!(env.count("customers"), 0);
    let said = env.ok(&["import", "customers", &file, "--from", "google-contacts"]);
    assert!(said.contains("4 created"), "{said}");
    let list = customers_json(&env.db());
    let zhang = &list[0];
    assert_eq!(zhang["name"], "张伟");
    // The primary (`* Home`) address first, the others kept as attributes.
    assert_eq!(zhang["email"], "zhang.wei@example.cn");
    assert_eq!(zhang["profile"]["attributes"]["email-2"], "zw88@qq.com");
    assert_eq!(
        zhang["profile"]["attributes"]["email-3"],
        "zhangwei@teahouse.cn"
    );
    assert_eq!(zhang["phone"], "+86 138 0013 8000");
    assert_eq!(zhang["profile"]["attributes"]["phone-2"], "021 6888 1234");
    assert_eq!(zhang["birthday"], "1988-02-29");
    assert_eq!(zhang["notes"], "喜欢龙井，每年春节前订礼盒。\n生日在闰日。");
    assert_eq!(zhang["tags"], serde_json::json!(["vip", "老客户"]));
    assert_eq!(zhang["profile"]["city"], "上海");
    assert_eq!(zhang["profile"]["country"], "CN");
    assert_eq!(zhang["company"], "上海茶舍有限公司");
    let ouyang = &list[1];
    assert_eq!(ouyang["name"], "欧阳娜娜");
    // A birthday without a year is left out.
    assert_eq!(ouyang["birthday"], serde_json::Value::Null);
    let chen = &list[2];
    assert_eq!(chen["name"], "陳美玲");
    assert_eq!(chen["profile"]["country"], "TW");
    assert_eq!(chen["phone"], "+886 912 345 678");
    assert_eq!(chen["profile"]["attributes"]["phone-2"], "+886 2 2345 6789");
    assert_eq!(chen["tags"], serde_json::json!(["台北客户"]));
    assert_eq!(list[3]["name"], "Clara Krüger");
    assert_eq!(list[3]["tags"], serde_json::json!(["friends-&-family"]));

    let other = env.write_str("other.csv", b"foo,bar\n1,2\n");
    let err = env.fails(
        &["import", "customers", &other, "--from", "google-contacts"],
        1,
    );
    assert!(err.contains("is it a Google CSV export?"), "{err}");
    assert_eq!(env.count("customers"), 4);
}
