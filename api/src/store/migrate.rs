//! Migrations: plain SQL files embedded in the binary, applied in order, each statement in
//! its own transaction (Aurora DSQL allows one DDL statement per transaction), and recorded
//! in `schema_migrations` once all of a file's statements have run. Every statement is
//! written to be re-runnable (`IF NOT EXISTS`), so a file interrupted half-way is finished
//! by the next run. SQLite, whose DDL is transactional, applies each file in one
//! transaction instead.

pub struct Migration {
    pub version: &'static str,
    pub sql: &'static str,
}

pub const POSTGRES: &[Migration] = &[
    Migration {
        version: "0001_init",
        sql: include_str!("../../../migrations/postgres/0001_init.sql"),
    },
    Migration {
        version: "0002_sharing",
        sql: include_str!("../../../migrations/postgres/0002_sharing.sql"),
    },
    Migration {
        version: "0003_identities",
        sql: include_str!("../../../migrations/postgres/0003_identities.sql"),
    },
    Migration {
        version: "0004_attachments",
        sql: include_str!("../../../migrations/postgres/0004_attachments.sql"),
    },
    Migration {
        version: "0005_account_security",
        sql: include_str!("../../../migrations/postgres/0005_account_security.sql"),
    },
    Migration {
        version: "0007_claims_and_usage",
        sql: include_str!("../../../migrations/postgres/0007_claims_and_usage.sql"),
    },
    Migration {
        version: "0008_api_tokens",
        sql: include_str!("../../../migrations/postgres/0008_api_tokens.sql"),
    },
    Migration {
        version: "0009_removals",
        sql: include_str!("../../../migrations/postgres/0009_removals.sql"),
    },
    Migration {
        version: "0010_item_extras",
        sql: include_str!("../../../migrations/postgres/0010_item_extras.sql"),
    },
    Migration {
        version: "0011_jobs",
        sql: include_str!("../../../migrations/postgres/0011_jobs.sql"),
    },
    Migration {
        version: "0012_asset_ids",
        sql: include_str!("../../../migrations/postgres/0012_asset_ids.sql"),
    },
    Migration {
        version: "0013_sessions_and_two_factor",
        sql: include_str!("../../../migrations/postgres/0013_sessions_and_two_factor.sql"),
    },
    Migration {
        version: "0014_passkeys",
        sql: include_str!("../../../migrations/postgres/0014_passkeys.sql"),
    },
    Migration {
        version: "0015_share_links",
        sql: include_str!("../../../migrations/postgres/0015_share_links.sql"),
    },
    Migration {
        version: "0016_maintenance",
        sql: include_str!("../../../migrations/postgres/0016_maintenance.sql"),
    },
    Migration {
        version: "0017_reminders",
        sql: include_str!("../../../migrations/postgres/0017_reminders.sql"),
    },
    Migration {
        version: "0018_email_confirmations",
        sql: include_str!("../../../migrations/postgres/0018_email_confirmations.sql"),
    },
];

pub const SQLITE: &[Migration] = &[
    Migration {
        version: "0001_init",
        sql: include_str!("../../../migrations/sqlite/0001_init.sql"),
    },
    Migration {
        version: "0002_sharing",
        sql: include_str!("../../../migrations/sqlite/0002_sharing.sql"),
    },
    Migration {
        version: "0003_identities",
        sql: include_str!("../../../migrations/sqlite/0003_identities.sql"),
    },
    Migration {
        version: "0004_attachments",
        sql: include_str!("../../../migrations/sqlite/0004_attachments.sql"),
    },
    Migration {
        version: "0005_account_security",
        sql: include_str!("../../../migrations/sqlite/0005_account_security.sql"),
    },
    Migration {
        version: "0007_claims_and_usage",
        sql: include_str!("../../../migrations/sqlite/0007_claims_and_usage.sql"),
    },
    Migration {
        version: "0008_api_tokens",
        sql: include_str!("../../../migrations/sqlite/0008_api_tokens.sql"),
    },
    Migration {
        version: "0009_removals",
        sql: include_str!("../../../migrations/sqlite/0009_removals.sql"),
    },
    Migration {
        version: "0010_item_extras",
        sql: include_str!("../../../migrations/sqlite/0010_item_extras.sql"),
    },
    Migration {
        version: "0011_jobs",
        sql: include_str!("../../../migrations/sqlite/0011_jobs.sql"),
    },
    Migration {
        version: "0012_asset_ids",
        sql: include_str!("../../../migrations/sqlite/0012_asset_ids.sql"),
    },
    Migration {
        version: "0013_sessions_and_two_factor",
        sql: include_str!("../../../migrations/sqlite/0013_sessions_and_two_factor.sql"),
    },
    Migration {
        version: "0014_passkeys",
        sql: include_str!("../../../migrations/sqlite/0014_passkeys.sql"),
    },
    Migration {
        version: "0015_share_links",
        sql: include_str!("../../../migrations/sqlite/0015_share_links.sql"),
    },
    Migration {
        version: "0016_maintenance",
        sql: include_str!("../../../migrations/sqlite/0016_maintenance.sql"),
    },
    Migration {
        version: "0017_reminders",
        sql: include_str!("../../../migrations/sqlite/0017_reminders.sql"),
    },
    Migration {
        version: "0018_email_confirmations",
        sql: include_str!("../../../migrations/sqlite/0018_email_confirmations.sql"),
    },
];

/// Recorded in `schema_migrations` once every item and location made before
/// `0012_asset_ids` has its number: the stores' backfill runs until then.
pub const ASSET_ID_BACKFILL: &str = "0012_asset_ids_backfill";

/// Rows one transaction of the asset id backfill numbers (Aurora DSQL: at most 3,000
/// changed rows a transaction).
pub const BACKFILL_ROWS: usize = 1_000;

/// Splits a migration into its statements: `;` ends a statement outside quotes and
/// comments; comments are dropped.
pub fn statements(sql: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut chars = sql.chars().peekable();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        if let Some(q) = quote {
            current.push(c);
            if c == q {
                quote = None;
            }
            continue;
        }
        match c {
            '\'' | '"' => {
                quote = Some(c);
                current.push(c);
            }
            '-' if chars.peek() == Some(&'-') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        current.push('\n');
                        break;
                    }
                }
            }
            ';' => {
                let statement = current.trim();
                if !statement.is_empty() {
                    out.push(statement.to_string());
                }
                current.clear();
            }
            _ => current.push(c),
        }
    }
    let statement = current.trim();
    if !statement.is_empty() {
        out.push(statement.to_string());
    }
    out
}

/// Rewrites `CREATE [UNIQUE] INDEX` into DSQL's asynchronous form.
pub fn dsql_statement(statement: &str) -> String {
    for prefix in ["CREATE UNIQUE INDEX ", "CREATE INDEX "] {
        if let Some(rest) = statement.strip_prefix(prefix)
            && !rest.starts_with("ASYNC ")
        {
            return format!("{prefix}ASYNC {rest}");
        }
    }
    statement.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_split_on_semicolons_outside_quotes_and_comments() {
        let sql = "-- a comment; with a semicolon\nCREATE TABLE a (x text DEFAULT ';');\n\nCREATE INDEX b ON a (x);";
        assert_eq!(
            statements(sql),
            vec![
                "CREATE TABLE a (x text DEFAULT ';')",
                "CREATE INDEX b ON a (x)"
            ]
        );
    }

    #[test]
    fn indexes_become_async_for_dsql() {
        assert_eq!(
            dsql_statement("CREATE INDEX IF NOT EXISTS i ON t (a)"),
            "CREATE INDEX ASYNC IF NOT EXISTS i ON t (a)"
        );
        assert_eq!(
            dsql_statement("CREATE UNIQUE INDEX u ON t (a)"),
            "CREATE UNIQUE INDEX ASYNC u ON t (a)"
        );
        assert_eq!(
            dsql_statement("CREATE TABLE t (a text)"),
            "CREATE TABLE t (a text)"
        );
    }

    /// Every postgres migration must run on Aurora DSQL.
    #[test]
    fn postgres_migrations_use_nothing_aurora_dsql_rejects() {
        let forbidden = [
            ("REFERENCES", "foreign keys"),
            ("FOREIGN KEY", "foreign keys"),
            ("SERIAL", "sequences"),
            ("SEQUENCE", "sequences"),
            ("GENERATED", "identity columns"),
            ("TRIGGER", "triggers"),
            ("FUNCTION", "functions"),
            ("PROCEDURE", "procedures"),
            ("PLPGSQL", "PL/pgSQL"),
            ("JSONB", "JSONB columns"),
            ("TRUNCATE", "TRUNCATE"),
            ("TEMP ", "temporary tables"),
            ("TEMPORARY", "temporary tables"),
            ("EXTENSION", "extensions"),
            ("SAVEPOINT", "savepoints"),
            (
                "BEGIN",
                "explicit transactions: the runner makes one per statement",
            ),
            (
                "COMMIT",
                "explicit transactions: the runner makes one per statement",
            ),
            ("USING GIN", "GIN indexes"),
            ("USING GIST", "GiST indexes"),
            ("TSVECTOR", "full-text columns"),
            ("$$", "function bodies"),
            ("DO ", "anonymous code blocks"),
        ];
        for migration in POSTGRES {
            for statement in statements(migration.sql) {
                let upper = statement.to_uppercase();
                let words: Vec<&str> = upper.split_whitespace().collect();
                for (word, what) in forbidden {
                    let found = if word.ends_with(' ') || word.contains(' ') || word == "$$" {
                        upper.contains(word)
                    } else {
                        words.iter().any(|w| {
                            w.trim_matches(|c: char| !c.is_ascii_alphanumeric() && c != '_') == word
                        })
                    };
                    assert!(
                        !found,
                        "{}: Aurora DSQL has no {what}: {statement}",
                        migration.version
                    );
                }
                let ddl = ["CREATE ", "ALTER ", "DROP "]
                    .iter()
                    .filter(|k| upper.contains(*k))
                    .count();
                assert!(
                    ddl <= 1,
                    "{}: one DDL statement per transaction: {statement}",
                    migration.version
                );
                if upper.starts_with("CREATE") {
                    assert!(
                        upper.contains("IF NOT EXISTS"),
                        "{}: must be re-runnable (IF NOT EXISTS): {statement}",
                        migration.version
                    );
                }
                if upper.starts_with("INSERT")
                    || upper.starts_with("UPDATE")
                    || upper.starts_with("DELETE")
                {
                    panic!(
                        "{}: data changes don't belong with DDL: {statement}",
                        migration.version
                    );
                }
            }
        }
    }
}
