//! The store's own invariants: what every book solocrm writes satisfies beyond SQLite's
//! constraints (`CHECK`, `UNIQUE`, foreign keys), which hold across rows and tables and
//! so cannot be declared in the schema. [`SqliteStore::check`](crate::SqliteStore::check)
//! runs them after SQLite's own checks; a violation means the file was changed outside
//! solocrm (or by a bug), and each one is reported as a line naming the rows concerned.
//!
//! Every query here reads through an index or one pass over a table, so checking a
//! book of a million purchases takes seconds, not minutes.

use rusqlite::Connection;

/// How many violations of one invariant are listed; the rest are counted in one line.
const MAX_PER_RULE: usize = 20;

/// One invariant: what it says (for the "and N more" line) and the query listing its
/// violations, one message each.
struct Rule {
    what: &'static str,
    sql: &'static str,
}

/// The invariants that SQL can state. Each query returns one text column, a message.
const RULES: &[Rule] = &[
    Rule {
        what: "customers whose stage is not where their stage history ends",
        sql: "SELECT 'customer ' || c.id || ' is at stage ' || c.stage
                     || ' but their last stage change (' || s.id || ') went to ' || s.to_stage
              FROM customers c
              JOIN stage_changes s
                ON s.id = (SELECT max(id) FROM stage_changes WHERE customer_id = c.id)
              WHERE s.to_stage <> c.stage
              ORDER BY c.id",
    },
    Rule {
        what: "stage changes that do not start where the previous one ended",
        sql: "SELECT 'stage change ' || id || ' of customer ' || customer_id || ' starts from '
                     || from_stage || ' but the change before it went to ' || prev
              FROM (SELECT id, customer_id, from_stage,
                           lag(to_stage) OVER (PARTITION BY customer_id ORDER BY id) AS prev
                    FROM stage_changes)
              WHERE prev IS NOT NULL AND prev <> from_stage
              ORDER BY id",
    },
    Rule {
        what: "purchases refunded beyond their amount",
        sql: "SELECT 'purchase ' || p.id || ' of ' || p.amount || ' minor units has '
                     || r.total || ' refunded'
              FROM (SELECT purchase_id, sum(amount) AS total FROM refunds GROUP BY purchase_id) r
              JOIN purchases p ON p.id = r.purchase_id
              WHERE r.total > p.amount
              ORDER BY p.id",
    },
    Rule {
        what: "voided purchases with refunds",
        sql: "SELECT 'purchase ' || p.id || ' is voided but refund ' || r.id || ' refunds it'
              FROM refunds r JOIN purchases p ON p.id = r.purchase_id
              WHERE p.void_at IS NOT NULL
              ORDER BY r.id",
    },
    Rule {
        what: "refunds filed under another customer than their purchase",
        sql: "SELECT 'refund ' || r.id || ' is filed under customer ' || r.customer_id
                     || ' but refunds purchase ' || p.id || ' of customer ' || p.customer_id
              FROM refunds r JOIN purchases p ON p.id = r.purchase_id
              WHERE r.customer_id <> p.customer_id
              ORDER BY r.id",
    },
    Rule {
        what: "points entries whose balance does not follow from the ledger",
        sql: "SELECT 'points entry ' || id || ' of customer ' || customer_id
                     || ' leaves a balance of ' || balance_after || ', not '
                     || (coalesce(prev, 0) + delta)
              FROM (SELECT id, customer_id, delta, balance_after,
                           lag(balance_after) OVER (PARTITION BY customer_id ORDER BY id) AS prev
                    FROM points_entries)
              WHERE balance_after <> coalesce(prev, 0) + delta
              ORDER BY id",
    },
    Rule {
        what: "customers whose kept points lots do not add up to their balance",
        sql: "SELECT 'customer ' || customer_id || ' has a balance of ' || sum(balance)
                     || ' points but open lots of ' || sum(lots) || ' (points_lots)'
              FROM (SELECT e.customer_id, e.balance_after AS balance, 0 AS lots
                    FROM points_entries e
                    WHERE e.id IN (SELECT max(id) FROM points_entries GROUP BY customer_id)
                    UNION ALL
                    SELECT customer_id, 0, points FROM points_lots)
              GROUP BY customer_id
              HAVING sum(balance) <> sum(lots)
              ORDER BY customer_id",
    },
    Rule {
        what: "customers whose kept purchase totals do not follow from their purchases",
        sql: "WITH agg AS (
                  SELECT customer_id, count(*) AS n, sum(amount) AS total,
                         min(at) AS fa, max(at) AS la
                  FROM purchases WHERE void_at IS NULL GROUP BY customer_id),
              counted AS (
                  SELECT customer_id, n, total, fa,
                         (SELECT min(p.at_ns) FROM purchases p WHERE p.customer_id = agg.customer_id
                             AND p.void_at IS NULL AND p.at = agg.fa) AS fns,
                         la,
                         (SELECT max(p.at_ns) FROM purchases p WHERE p.customer_id = agg.customer_id
                             AND p.void_at IS NULL AND p.at = agg.la) AS lns
                  FROM agg),
              kept AS (
                  SELECT customer_id, purchases, amount, first_at, first_at_ns, last_at,
                         last_at_ns FROM purchase_totals)
              SELECT DISTINCT 'customer ' || customer_id
                     || ' has purchase totals that differ from their purchases (purchase_totals)'
              FROM (SELECT * FROM (SELECT * FROM counted EXCEPT SELECT * FROM kept)
                    UNION ALL
                    SELECT * FROM (SELECT * FROM kept EXCEPT SELECT * FROM counted))
              ORDER BY 1",
    },
    Rule {
        what: "deals whose stage is not where their history ends",
        sql: "SELECT 'deal ' || d.id || ' is at ' || d.stage || ' but its history ends at '
                     || coalesce(m.to_stage, d.initial_stage)
              FROM deals d
              LEFT JOIN deal_moves m
                ON m.deal_id = d.id
               AND m.seq = (SELECT max(seq) FROM deal_moves WHERE deal_id = d.id)
              WHERE d.stage <> coalesce(m.to_stage, d.initial_stage)
              ORDER BY d.id",
    },
    Rule {
        what: "deal moves that do not follow one another",
        sql: "SELECT 'move ' || seq || ' of deal ' || deal_id || ' starts from ' || from_stage
                     || ' but the deal was at ' || prev
              FROM (SELECT m.deal_id, m.seq, m.from_stage,
                           coalesce(lag(m.to_stage) OVER (PARTITION BY m.deal_id ORDER BY m.seq),
                                    d.initial_stage) AS prev
                    FROM deal_moves m JOIN deals d ON d.id = m.deal_id)
              WHERE prev <> from_stage
              ORDER BY deal_id, seq",
    },
    Rule {
        what: "erased customers without their placeholder name",
        sql: "SELECT 'erased customer ' || id || ' is still named ' || quote(name)
              FROM customers
              WHERE erased_at IS NOT NULL AND name <> 'erased customer ' || id
              ORDER BY id",
    },
    Rule {
        what: "erased customers with tags or consents",
        sql: "SELECT 'erased customer ' || c.id || ' still has '
                     || (SELECT count(*) FROM customer_tags WHERE customer_id = c.id) || ' tag(s) and '
                     || (SELECT count(*) FROM consents WHERE customer_id = c.id) || ' consent(s)'
              FROM customers c
              WHERE c.erased_at IS NOT NULL
                AND (EXISTS (SELECT 1 FROM customer_tags WHERE customer_id = c.id)
                  OR EXISTS (SELECT 1 FROM consents WHERE customer_id = c.id))
              ORDER BY c.id",
    },
    Rule {
        what: "erased customers whose records still hold text",
        sql: "SELECT 'erased customer ' || c.id || ' still has text in ' || n || ' row(s) of ' || t
              FROM customers c
              JOIN (SELECT customer_id, 'interactions' AS t, count(*) AS n FROM interactions
                     WHERE summary <> '' GROUP BY customer_id
                    UNION ALL
                    SELECT customer_id, 'purchases', count(*) FROM purchases
                     WHERE description IS NOT NULL GROUP BY customer_id
                    UNION ALL
                    SELECT customer_id, 'refunds', count(*) FROM refunds
                     WHERE reason IS NOT NULL GROUP BY customer_id
                    UNION ALL
                    SELECT customer_id, 'surveys', count(*) FROM surveys
                     WHERE comment IS NOT NULL GROUP BY customer_id
                    UNION ALL
                    SELECT customer_id, 'void reasons of purchases', count(*) FROM purchases
                     WHERE void_reason IS NOT NULL GROUP BY customer_id
                    UNION ALL
                    SELECT customer_id, 'void reasons of interactions', count(*)
                     FROM interactions WHERE void_reason IS NOT NULL GROUP BY customer_id
                    UNION ALL
                    SELECT customer_id, 'void reasons of surveys', count(*) FROM surveys
                     WHERE void_reason IS NOT NULL GROUP BY customer_id
                    UNION ALL
                    SELECT customer_id, 'survey_sheets', count(*) FROM survey_sheets
                     WHERE EXISTS (SELECT 1 FROM json_each(answers) a
                                    WHERE json_type(a.value, '$.value.text') IS NOT NULL)
                        OR json_type(voided, '$.reason') IS NOT NULL
                     GROUP BY customer_id
                    UNION ALL
                    SELECT customer_id, 'service_requests', count(*) FROM service_requests
                     WHERE subject <> 'erased' OR description <> '' GROUP BY customer_id
                    UNION ALL
                    SELECT customer_id, 'deals', count(*) FROM deals
                     WHERE title <> 'erased' OR coalesce(lost_reason, 'erased') <> 'erased'
                     GROUP BY customer_id
                    UNION ALL
                    SELECT d.customer_id, 'deal_notes', count(*) FROM deal_notes n
                      JOIN deals d ON d.id = n.deal_id GROUP BY d.customer_id
                    UNION ALL
                    SELECT customer_id, 'tasks', count(*) FROM tasks
                     WHERE customer_id IS NOT NULL AND title <> 'erased' GROUP BY customer_id
                    UNION ALL
                    SELECT customer_id, 'points_entries', count(*) FROM points_entries
                     WHERE reason IS NOT NULL GROUP BY customer_id
                    UNION ALL
                    SELECT customer_id, 'stage_changes', count(*) FROM stage_changes
                     WHERE note IS NOT NULL GROUP BY customer_id
                    UNION ALL
                    SELECT customer_id, 'needs', count(*) FROM needs
                     WHERE note IS NOT NULL GROUP BY customer_id) x ON x.customer_id = c.id
              WHERE c.erased_at IS NOT NULL
              ORDER BY c.id, t",
    },
    Rule {
        what: "erased customers whose erasure is not in the audit log",
        sql: "SELECT 'erased customer ' || c.id || ' has no entry in the audit log'
              FROM customers c
              WHERE c.erased_at IS NOT NULL
                AND NOT EXISTS (SELECT 1 FROM audit_log a
                                WHERE a.customer_id = c.id AND a.action = 'customer_erased')
              ORDER BY c.id",
    },
    Rule {
        what: "erasures in the audit log of customers who are not erased",
        sql: "SELECT 'the audit log records the erasure of customer ' || a.customer_id
                     || ', who is not erased'
              FROM audit_log a JOIN customers c ON c.id = a.customer_id
              WHERE a.action = 'customer_erased' AND c.erased_at IS NULL
              ORDER BY a.id",
    },
    Rule {
        what: "customers the search index does not hold as they are",
        sql: "SELECT 'customer ' || c.id || CASE WHEN s.id IS NULL
                     THEN ' is missing from the search index'
                     ELSE ' is in the search index with other text than their row' END
              FROM customers c LEFT JOIN customer_search_content s ON s.id = c.id
              WHERE c.erased_at IS NULL
                AND (s.id IS NULL OR s.c0 IS NOT c.name OR s.c1 IS NOT c.email
                     OR s.c2 IS NOT c.company
                     OR s.c3 IS NOT json_extract(c.profile, '$.city')
                     OR s.c4 IS NOT c.notes)
              ORDER BY c.id",
    },
    Rule {
        what: "search index entries of erased or unknown customers",
        sql: "SELECT 'the search index holds an entry for customer ' || s.id || CASE
                     WHEN c.id IS NULL THEN ', who does not exist' ELSE ', who is erased' END
              FROM customer_search_content s LEFT JOIN customers c ON c.id = s.id
              WHERE c.id IS NULL OR c.erased_at IS NOT NULL
              ORDER BY s.id",
    },
];

/// The violations of the store's invariants in the database `conn` reads, one message
/// each (at most [`MAX_PER_RULE`] per invariant, then a count of the rest).
pub(crate) fn violations(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut found = Vec::new();
    for rule in RULES {
        let mut stmt = conn.prepare(rule.sql)?;
        let mut rows = stmt.query([])?;
        let mut n = 0usize;
        while let Some(r) = rows.next()? {
            if n < MAX_PER_RULE {
                found.push(r.get::<_, String>(0)?);
            }
            n += 1;
        }
        if n > MAX_PER_RULE {
            found.push(format!("... {} more {}", n - MAX_PER_RULE, rule.what));
        }
    }
    email_keys(conn, &mut found)?;
    Ok(found)
}

/// Every stored email's look-up key is the one the core derives from it (lower case,
/// NFC), so a look-up by email finds its customer. SQL's `lower` folds ASCII only, so
/// this is checked in Rust, one pass over the customers with an email.
fn email_keys(conn: &Connection, found: &mut Vec<String>) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare(
        "SELECT id, email, email_key FROM customers WHERE email IS NOT NULL ORDER BY id",
    )?;
    let mut rows = stmt.query([])?;
    let mut n = 0usize;
    while let Some(r) = rows.next()? {
        let id: i64 = r.get(0)?;
        let email: String = r.get(1)?;
        let stored: Option<String> = r.get(2)?;
        let problem = match solocrm_core::Email::parse(&email) {
            Ok(parsed) if stored.as_deref() == Some(parsed.key().as_str()) => continue,
            Ok(parsed) => format!(
                "customer {id}: the look-up key of their email is {}, not {}",
                stored.as_deref().unwrap_or("missing"),
                parsed.key()
            ),
            Err(e) => format!("customer {id}: the stored email is not valid: {e}"),
        };
        if n < MAX_PER_RULE {
            found.push(problem);
        }
        n += 1;
    }
    if n > MAX_PER_RULE {
        found.push(format!(
            "... {} more customers whose email and look-up key disagree",
            n - MAX_PER_RULE
        ));
    }
    Ok(())
}
