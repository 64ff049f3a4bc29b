//! What the backends' embedded migrations share: a migration's identity is its number and the
//! SHA-256 of its text, recorded when it is applied, so that a database made by a build whose
//! migrations differ from this one's is refused instead of silently carrying another schema.

use sha2::{Digest, Sha256};

use crate::{Result, StoreError};

/// One forward schema change, embedded in the code. Never edit one that has shipped: add a new
/// one that changes what must change.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    pub description: &'static str,
    pub sql: &'static str,
    /// The checksums of other texts of this migration that shipped before checksums were
    /// recorded, and that a database may therefore have been made with; a later migration
    /// brings such a database to the same schema.
    pub also_shipped: &'static [&'static str],
}

impl Migration {
    /// The SHA-256 of the migration's text, as 64 hexadecimal characters.
    pub fn checksum(&self) -> String {
        checksum(self.sql)
    }

    /// Whether a recorded checksum is that of a text of this migration that shipped.
    pub fn accepts(&self, recorded: &str) -> bool {
        recorded == self.checksum() || self.also_shipped.contains(&recorded)
    }
}

/// The SHA-256 of a migration text, as 64 hexadecimal characters.
pub fn checksum(sql: &str) -> String {
    hex::encode(Sha256::digest(sql.as_bytes()))
}

/// Refuses a database whose recorded version is newer than the code's.
pub fn check_not_newer(current: i64, migrations: &[Migration]) -> Result<()> {
    let known = migrations.len() as i64;
    if current > known {
        return Err(StoreError::Incompatible(format!(
            "the database is at schema version {current}, newer than this hutong knows ({known}); upgrade hutong"
        )));
    }
    Ok(())
}

/// Checks what a database recorded of its applied migrations (`(version, checksum)`, versions
/// from 1) against the code's: every checksum must be that of a shipped text of the migration
/// with that number. A version without a checksum (recorded before checksums were) is not
/// checked here; the backend fills it in.
pub fn check_history(migrations: &[Migration], recorded: &[(i64, Option<String>)]) -> Result<()> {
    for (version, sum) in recorded {
        let Some(sum) = sum else { continue };
        let m = usize::try_from(*version)
            .ok()
            .and_then(|v| v.checked_sub(1))
            .and_then(|i| migrations.get(i))
            .ok_or_else(|| {
                StoreError::Incompatible(format!(
                    "the database records migration {version}, which this hutong does not know; upgrade hutong"
                ))
            })?;
        if !m.accepts(sum) {
            return Err(StoreError::Incompatible(format!(
                "migration {version} ({}) was applied to this database from a text with checksum {}, \
                 but hutong shipped it as {}: the database was made by a modified build, and its \
                 schema may differ from the one this hutong expects. It is not opened; restore it \
                 from a backup made by a release, or load its data into a new database",
                m.description,
                short(sum),
                short(&m.checksum())
            )));
        }
    }
    Ok(())
}

fn short(sum: &str) -> &str {
    sum.get(..12).unwrap_or(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: &[Migration] = &[
        Migration {
            description: "one",
            sql: "CREATE TABLE a (x int)",
            also_shipped: &["0123456789abcdef"],
        },
        Migration {
            description: "two",
            sql: "CREATE TABLE b (x int)",
            also_shipped: &[],
        },
    ];

    #[test]
    fn histories_are_checked_by_checksum() {
        assert_eq!(
            checksum(""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        let ok = [(1, Some(M[0].checksum())), (2, Some(M[1].checksum()))];
        check_history(M, &ok).unwrap();
        check_history(M, &[(1, Some("0123456789abcdef".into())), (2, None)]).unwrap();
        let e = check_history(M, &[(2, Some(M[0].checksum()))])
            .unwrap_err()
            .to_string();
        assert!(e.contains("migration 2 (two) was applied"), "{e}");
        assert!(e.contains("modified build"), "{e}");
        let e = check_history(M, &[(3, Some("x".into()))])
            .unwrap_err()
            .to_string();
        assert!(e.contains("does not know"), "{e}");
        assert!(check_not_newer(2, M).is_ok());
        assert!(check_not_newer(3, M).is_err());
    }
}
