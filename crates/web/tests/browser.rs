//! The workspace in a real browser: headless Chromium driven over WebDriver by Debian's
//! `chromedriver` (no driver is downloaded). Without a chromedriver the test prints why
//! it skips and passes, unless `SOLOCRM_REQUIRE_BROWSER=1` (set by `.ci/run`), which
//! makes the skip a failure. `SOLOCRM_CHROMEDRIVER` names another driver binary.
//!
//! Screenshots of the dashboard and a customer page are saved as test artifacts under
//! the target directory (`target/tmp/web-screenshots/`).

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone as _, Utc};
use fantoccini::{Client, ClientBuilder, Locator};
use solocrm_app::{Books, Location, OpenOptions};
use solocrm_core::{
    Currency, CustomerData, Label, Money, NewCustomer, NewDeal, PersonName, Store as _,
};
use solocrm_web::{Config, app};
use tokio::io::AsyncBufReadExt as _;

const TOKEN: &str = "b0d8e5c1a2f34e6b9c7d0a1b2c3d4e5f";
const SCRIPT_NAME: &str = "<script>alert('pwned')</script>";

fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 6, 15, 10, 0, 0)
        .single()
        .expect("instant")
}

/// The chromedriver to use, or why there is none.
fn chromedriver() -> Result<PathBuf, String> {
    if let Some(p) = std::env::var_os("SOLOCRM_CHROMEDRIVER") {
        let p = PathBuf::from(p);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!(
                "SOLOCRM_CHROMEDRIVER names {}, which is not a file",
                p.display()
            ))
        };
    }
    let default = PathBuf::from("/usr/bin/chromedriver");
    if default.is_file() {
        return Ok(default);
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("chromedriver"))
                .find(|p| p.is_file())
        })
        .ok_or_else(|| {
            "no chromedriver (install Debian's: apt-get install chromium chromium-driver \
             fonts-noto-cjk)"
                .to_owned()
        })
}

/// Starts `driver` on a free port; returns the child and its URL.
async fn start_driver(driver: &PathBuf) -> (tokio::process::Child, String) {
    let mut child = tokio::process::Command::new(driver)
        .arg("--port=0")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = tokio::io::BufReader::new(stdout).lines();
    let port = tokio::time::timeout(Duration::from_secs(20), async {
        while let Some(line) = lines.next_line().await.expect("driver output") {
            // "ChromeDriver was started successfully on port 41235."
            if let Some(rest) = line.split("started successfully on port ").nth(1) {
                let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
                if let Ok(p) = digits.parse::<u16>() {
                    return p;
                }
            }
        }
        panic!("chromedriver ended without saying its port");
    })
    .await
    .expect("chromedriver says its port within 20 s");
    // Keep reading its output so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    (child, format!("http://127.0.0.1:{port}"))
}

async fn browser(driver_url: &str) -> Client {
    let mut caps = serde_json::Map::new();
    caps.insert(
        "goog:chromeOptions".to_owned(),
        serde_json::json!({
            "binary": std::env::var("SOLOCRM_CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned()),
            "args": ["--headless=new", "--no-sandbox", "--disable-gpu",
                     "--disable-dev-shm-usage", "--window-size=1280,1400", "--lang=en-US"],
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(caps)
        .connect(driver_url)
        .await
        .expect("a browser session")
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("web-screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot directory");
    dir
}

/// The text of the first element matching `css` once it satisfies `ok`, waiting up to
/// 10 s. A click that submits a form returns before the browser has replaced the
/// page, so the element first found may be the old page's (and go stale, or still show
/// the old text): the wait reads it again until the new page answers.
async fn text_when(c: &Client, css: &str, ok: impl Fn(&str) -> bool) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let mut last = String::from("(no element)");
    loop {
        if let Ok(element) = c.find(Locator::Css(css)).await {
            match element.text().await {
                Ok(t) if ok(&t) => return t,
                Ok(t) => last = t,
                Err(e) => last = format!("(error: {e})"),
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{css}: still {last:?} after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits until the first element matching `css` reads `want`, and returns it.
async fn text(c: &Client, css: &str, want: &str) -> String {
    text_when(c, css, |t| t == want).await
}

async fn count(c: &Client, css: &str) -> usize {
    c.find_all(Locator::Css(css)).await.expect("find").len()
}

/// Waits up to 10 s until `want` elements match `css`: after a form's submission the
/// old page may still be the one shown (the server now also runs the rules before it
/// answers).
async fn count_when(c: &Client, css: &str, want: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let n = match c.find_all(Locator::Css(css)).await {
            Ok(found) => found.len(),
            Err(_) => usize::MAX,
        };
        if n == want {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{css}: {n} elements, not {want}, after 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_workspace_works_in_a_real_browser() {
    let driver = match chromedriver() {
        Ok(d) => d,
        Err(why) => {
            assert!(
                std::env::var("SOLOCRM_REQUIRE_BROWSER").as_deref() != Ok("1"),
                "SOLOCRM_REQUIRE_BROWSER=1 but the browser test cannot run: {why}"
            );
            eprintln!("skipped: {why}");
            return;
        }
    };
    // The books: a deal to move and a customer whose name is a script.
    let books =
        Books::create(&Location::Memory, Currency::CNY, &OpenOptions::default()).expect("books");
    let buyer = books
        .create_customer(NewCustomer::new(
            CustomerData::new(PersonName::parse("Zhou Tea").expect("name")),
            now() - chrono::Duration::days(40),
        ))
        .expect("customer");
    let deal = books
        .create_deal(NewDeal::new(
            buyer.id(),
            Label::parse("Tea shop fit-out").expect("title"),
            Money::parse("5000", Currency::CNY).expect("money"),
            now() - chrono::Duration::days(20),
        ))
        .expect("deal");
    let script = books
        .create_customer(NewCustomer::new(
            CustomerData::new(PersonName::parse(SCRIPT_NAME).expect("name")),
            now() - chrono::Duration::days(5),
        ))
        .expect("customer");

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let router = app(
        books.clone(),
        Config {
            token: TOKEN.to_owned(),
            session: "c5e2a0d4b1f3e6a7c8d9e0f1a2b3c4d5".to_owned(),
            extra_host: None,
            clock: Arc::new(now),
            automation: true,
            feed: None,
        },
    );
    let server = tokio::spawn(async move { axum::serve(listener, router).await });

    let (mut driver_process, driver_url) = start_driver(&driver).await;
    let c = browser(&driver_url).await;
    let shots = screenshots();

    // Open with the token: the browser lands on the dashboard, token gone from the URL.
    c.goto(&format!("{base}/?token={TOKEN}"))
        .await
        .expect("goto");
    let url = c.current_url().await.expect("url");
    assert_eq!(url.as_str(), format!("{base}/"));
    assert!(!url.as_str().contains("token"));
    // The charts: 8 stages, 13 months (16 June 2025 to 15 June 2026) of revenue and of
    // satisfaction, 11 RFM segments, 5 open stages, each with its data table; and the
    // cohort heatmap, which says it has no cohort yet (nobody has bought).
    text(&c, "h1", "Dashboard").await;
    assert_eq!(count(&c, "#chart-stages rect.bar").await, 8);
    assert_eq!(count(&c, "#chart-revenue rect.bar").await, 13);
    assert_eq!(count(&c, "#chart-satisfaction rect.bar").await, 13);
    assert_eq!(count(&c, "#chart-rfm rect.bar").await, 11);
    assert_eq!(count(&c, "#chart-pipeline rect.bar").await, 5);
    assert_eq!(count(&c, "#cohort-heatmap p.empty").await, 1);
    assert_eq!(count(&c, "figure.chart table.data").await, 5);
    std::fs::write(
        shots.join("dashboard.png"),
        c.screenshot().await.expect("screenshot"),
    )
    .expect("save");

    // Add a customer with a Chinese name.
    c.goto(&format!("{base}/customers")).await.expect("goto");
    c.find(Locator::Css("#add-name"))
        .await
        .expect("name field")
        .send_keys("李雷")
        .await
        .expect("type");
    c.find(Locator::Css("#add-customer button[type=submit]"))
        .await
        .expect("button")
        .click()
        .await
        .expect("submit");
    text(&c, "h1", "李雷").await;
    let page = c.current_url().await.expect("url").to_string();
    assert!(page.starts_with(&format!("{base}/customers/")), "{page}");
    text(&c, "#stage", "prospect").await;

    // Record a purchase: the first one makes them new.
    c.find(Locator::Css("#purchase-amount"))
        .await
        .expect("amount field")
        .send_keys("88.00")
        .await
        .expect("type");
    c.find(Locator::Css("#form-purchase button[type=submit]"))
        .await
        .expect("button")
        .click()
        .await
        .expect("submit");
    assert_eq!(c.current_url().await.expect("url").as_str(), page);
    text(&c, "#stage", "new").await;
    text_when(&c, "#timeline", |t| t.contains("88.00")).await;
    // The automation ran with the write: the rule's thank-you task is on the page the
    // form led to, and the timeline names the rule.
    text_when(&c, "#open-tasks", |t| {
        t.contains("Thank 李雷 for the first purchase")
    })
    .await;
    text_when(&c, "#timeline", |t| t.contains("first-purchase-thanks")).await;
    std::fs::write(
        shots.join("customer.png"),
        c.screenshot().await.expect("screenshot"),
    )
    .expect("save");

    // A bad amount comes back with the message beside the field, nothing recorded.
    c.find(Locator::Css("#purchase-amount"))
        .await
        .expect("amount field")
        .send_keys("12.345")
        .await
        .expect("type");
    c.find(Locator::Css("#form-purchase button[type=submit]"))
        .await
        .expect("button")
        .click()
        .await
        .expect("submit");
    text_when(&c, "#purchase-amount-error", |t| !t.is_empty()).await;

    // The task's Done button closes it.
    c.find(Locator::Css("#open-tasks form[action$='/done'] button"))
        .await
        .expect("done button")
        .click()
        .await
        .expect("done");
    count_when(&c, "#open-tasks", 0).await;
    assert_eq!(c.current_url().await.expect("url").as_str(), page);

    // A name that is a script is shown as text, and no script ran.
    c.goto(&format!("{base}/customers/{}", script.id()))
        .await
        .expect("goto");
    text(&c, "h1", SCRIPT_NAME).await;
    assert_eq!(count(&c, "script").await, 0);
    let title = c.title().await.expect("title");
    assert!(title.starts_with(SCRIPT_NAME), "{title}");

    // Move the deal on the board.
    c.goto(&format!("{base}/pipeline")).await.expect("goto");
    let card = format!("#deal-{}", deal.id());
    assert_eq!(
        count(&c, &format!("section[data-stage=need_identified] {card}")).await,
        1
    );
    c.find(Locator::Css(&format!("{card} select[name=to]")))
        .await
        .expect("select")
        .select_by_value("proposal")
        .await
        .expect("choose");
    c.find(Locator::Css(&format!("{card} button[type=submit]")))
        .await
        .expect("button")
        .click()
        .await
        .expect("move");
    count_when(&c, &format!("section[data-stage=proposal] {card}"), 1).await;
    assert_eq!(
        c.current_url().await.expect("url").as_str(),
        format!("{base}/pipeline")
    );
    assert_eq!(
        count(&c, &format!("section[data-stage=need_identified] {card}")).await,
        0
    );

    // Add a rule in the rules page's form; a bad condition comes back beside its field
    // with its column, what was typed kept.
    c.goto(&format!("{base}/rules")).await.expect("goto");
    for (field, value) in [
        ("#rule-add-name", "big-order"),
        ("#rule-add-trigger", "purchase_recorded"),
        ("#rule-add-condition", "amount >= lots"),
        ("#rule-add-task_title", "致电 {name}"),
    ] {
        c.find(Locator::Css(field))
            .await
            .expect("rule field")
            .send_keys(value)
            .await
            .expect("type");
    }
    c.find(Locator::Css("#rule-add button[type=submit]"))
        .await
        .expect("button")
        .click()
        .await
        .expect("submit");
    text_when(&c, "#rule-add-condition-error", |t| t.contains("column 11")).await;
    let kept = c
        .find(Locator::Css("#rule-add-task_title"))
        .await
        .expect("title field")
        .prop("value")
        .await
        .expect("value");
    assert_eq!(kept.as_deref(), Some("致电 {name}"));
    let condition = c
        .find(Locator::Css("#rule-add-condition"))
        .await
        .expect("condition field");
    condition.clear().await.expect("clear");
    condition.send_keys("amount >= 1000").await.expect("type");
    c.find(Locator::Css("#rule-add button[type=submit]"))
        .await
        .expect("button")
        .click()
        .await
        .expect("submit");
    count_when(&c, "#rule-big-order", 1).await;
    text_when(&c, "#rule-big-order", |t| t.contains("致电 {name}")).await;

    // Switch the language; it sticks for the next page.
    c.find(Locator::Css("#lang-zh"))
        .await
        .expect("switch")
        .click()
        .await
        .expect("click");
    text(&c, "h1", "自动化规则").await;
    text_when(&c, "#add-rule", |t| t == "添加规则").await;
    c.goto(&format!("{base}/")).await.expect("goto");
    text(&c, "h1", "仪表盘").await;
    let lang = c
        .find(Locator::Css("html"))
        .await
        .expect("html")
        .attr("lang")
        .await
        .expect("attr");
    assert_eq!(lang.as_deref(), Some("zh-CN"));
    std::fs::write(
        shots.join("dashboard-zh.png"),
        c.screenshot().await.expect("screenshot"),
    )
    .expect("save");

    // The RFM view from the navigation: a 5 x 5 grid and the 11 segments' table.
    c.find(Locator::Css("header nav a[href='/rfm']"))
        .await
        .expect("nav link")
        .click()
        .await
        .expect("click");
    text(&c, "h1", "RFM 分析").await;
    assert_eq!(count(&c, "#rfm-grid g.cell rect").await, 25);
    assert_eq!(count(&c, "#rfm-segments tbody tr").await, 11);
    std::fs::write(
        shots.join("rfm-zh.png"),
        c.screenshot().await.expect("screenshot"),
    )
    .expect("save");

    c.close().await.expect("close");
    let _ = driver_process.kill().await;
    server.abort();
    eprintln!("screenshots in {}", shots.display());
}
