//! The connection pool: r2d2 over the sync `postgres` client, each connection with
//! the statements it has prepared, so a statement is parsed and planned once per
//! connection rather than once per call.

use std::collections::HashMap;

use postgres::types::ToSql;
use postgres::{Client, NoTls, Row, Statement};

/// One pooled connection and its prepared statements, by SQL text.
pub(crate) struct Conn {
    pub(crate) client: Client,
    /// Set when the connection is in an unknown state (a failed `ROLLBACK`): the
    /// pool discards it rather than lend it again.
    pub(crate) broken: bool,
    prepared: HashMap<&'static str, Statement>,
}

/// A statement's parameters.
pub(crate) type Params<'a> = &'a [&'a (dyn ToSql + Sync)];

impl Conn {
    /// `sql`, prepared on this connection on first use.
    fn statement(&mut self, sql: &'static str) -> Result<Statement, postgres::Error> {
        if let Some(s) = self.prepared.get(sql) {
            return Ok(s.clone());
        }
        // Every statement of the books is confined to the handle's tenant, bound as
        // $1: checked here, where each is prepared once, by every test that runs it.
        debug_assert!(
            names_the_tenant(sql),
            "a statement that is not confined to the tenant: {sql}"
        );
        let s = self.client.prepare(sql)?;
        self.prepared.insert(sql, s.clone());
        Ok(s)
    }

    /// Every row of `sql`.
    pub(crate) fn query(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<Vec<Row>, postgres::Error> {
        let s = self.statement(sql)?;
        self.client.query(&s, params)
    }

    /// The first row of `sql`, if any.
    pub(crate) fn query_opt(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<Option<Row>, postgres::Error> {
        let s = self.statement(sql)?;
        let mut rows = self.client.query(&s, params)?;
        Ok(if rows.is_empty() {
            None
        } else {
            Some(rows.swap_remove(0))
        })
    }

    /// Runs `sql` and says how many rows it changed.
    pub(crate) fn execute(
        &mut self,
        sql: &'static str,
        params: Params<'_>,
    ) -> Result<u64, postgres::Error> {
        let s = self.statement(sql)?;
        self.client.execute(&s, params)
    }

    /// Runs statements without parameters (transaction control, DDL).
    pub(crate) fn batch(&mut self, sql: &str) -> Result<(), postgres::Error> {
        self.client.batch_execute(sql)
    }
}

/// True if `sql` is confined to the tenant bound as `$1`: a statement that filters on
/// `tenant_id = $1`, or an insert whose first column is `tenant_id` and first value
/// `$1`.
pub(crate) fn names_the_tenant(sql: &str) -> bool {
    let insert = sql.starts_with("INSERT INTO ")
        && sql.contains(" (tenant_id, ")
        && sql.contains("VALUES ($1, ");
    insert || (!sql.starts_with("INSERT") && sql.contains("tenant_id = $1"))
}

/// Makes [`Conn`]s for r2d2 from one connection configuration.
#[derive(Debug, Clone)]
pub(crate) struct Manager {
    pub(crate) config: postgres::Config,
}

impl r2d2::ManageConnection for Manager {
    type Connection = Conn;
    type Error = postgres::Error;

    fn connect(&self) -> Result<Conn, postgres::Error> {
        let client = self.config.connect(NoTls)?;
        Ok(Conn {
            client,
            broken: false,
            prepared: HashMap::new(),
        })
    }

    fn is_valid(&self, conn: &mut Conn) -> Result<(), postgres::Error> {
        conn.client.simple_query("").map(drop)
    }

    fn has_broken(&self, conn: &mut Conn) -> bool {
        conn.broken || conn.client.is_closed()
    }
}

#[cfg(test)]
mod tests {
    use super::names_the_tenant;

    #[test]
    fn the_tenant_check_tells_confined_statements_from_others() {
        for sql in [
            "SELECT id FROM customers WHERE tenant_id = $1 AND id = $2",
            "SELECT x.id FROM refunds x WHERE x.tenant_id = $1 ORDER BY x.id",
            "UPDATE deals SET title = $3 WHERE tenant_id = $1 AND id = $2",
            "DELETE FROM segments WHERE tenant_id = $1 AND name = $2",
            "INSERT INTO segments (tenant_id, name, predicate) VALUES ($1, $2, $3)",
        ] {
            assert!(names_the_tenant(sql), "{sql}");
        }
        for sql in [
            "SELECT id FROM customers WHERE id = $1",
            "SELECT max(id) FROM customers",
            "UPDATE deals SET title = $2 WHERE id = $1",
            "DELETE FROM segments WHERE name = $1",
            "INSERT INTO segments (name, predicate) VALUES ($1, $2)",
            "INSERT INTO segments (tenant_id, name) SELECT tenant_id, name FROM segments",
        ] {
            assert!(!names_the_tenant(sql), "{sql}");
        }
    }
}
