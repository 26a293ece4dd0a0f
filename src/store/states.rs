//! The states rows move through, as enums stored by name in a text column (the names are the
//! stored values: the migrations' data and older rows use them). One mapping per backend, and
//! one for the multi-backend connection, which hands over to them.

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;

use super::db::MultiBackend;

/// Where a card challenge is (docs/card-login.md §4): waiting for the helper, claimed by one
/// answer being verified, or done either way. Expiry is not a state: it is read from
/// `expires_at`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum ChallengeProgress {
    Pending,
    Answering,
    Completed,
    Failed,
}

/// A certificate binding: the certificate logs its person in (`Active`), was revoked by a CRL
/// (`Revoked`), or was replaced by a renewal with a linkage record (`Superseded`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, AsExpression, FromSqlRow)]
#[diesel(sql_type = Text)]
pub enum BindingStatus {
    Active,
    Revoked,
    Superseded,
}

macro_rules! names {
    ($ty:ident { $($variant:ident => $name:literal),* $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$($ty::$variant),*];

            /// The stored name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name),*
                }
            }

            pub fn parse(text: &str) -> Option<$ty> {
                $ty::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }
    };
}

names!(ChallengeProgress {
    Pending => "pending",
    Answering => "answering",
    Completed => "completed",
    Failed => "failed",
});

names!(BindingStatus {
    Active => "active",
    Revoked => "revoked",
    Superseded => "superseded",
});

fn parse_stored<T>(text: &str, parse: fn(&str) -> Option<T>) -> deserialize::Result<T> {
    parse(text).ok_or_else(|| format!("{text:?} is not a stored state").into())
}

macro_rules! stored_by_name {
    ($($ty:ty),*) => {$(
        impl ToSql<Text, Sqlite> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
                out.set_value(self.as_str());
                Ok(IsNull::No)
            }
        }

        impl ToSql<Text, Pg> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
                <str as ToSql<Text, Pg>>::to_sql(self.as_str(), &mut out.reborrow())
            }
        }

        impl ToSql<Text, MultiBackend> for $ty {
            fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
                out.set_value((Text, self));
                Ok(IsNull::No)
            }
        }

        impl FromSql<Text, Sqlite> for $ty {
            fn from_sql(
                bytes: <Sqlite as diesel::backend::Backend>::RawValue<'_>,
            ) -> deserialize::Result<Self> {
                parse_stored(&<String as FromSql<Text, Sqlite>>::from_sql(bytes)?, <$ty>::parse)
            }
        }

        impl FromSql<Text, Pg> for $ty {
            fn from_sql(
                bytes: <Pg as diesel::backend::Backend>::RawValue<'_>,
            ) -> deserialize::Result<Self> {
                parse_stored(&<String as FromSql<Text, Pg>>::from_sql(bytes)?, <$ty>::parse)
            }
        }

        impl FromSql<Text, MultiBackend> for $ty {
            fn from_sql(
                bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
            ) -> deserialize::Result<Self> {
                bytes.from_sql::<Self, Text>()
            }
        }
    )*};
}

stored_by_name!(ChallengeProgress, BindingStatus);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_from_its_stored_name_and_nothing_else_does() {
        for p in ChallengeProgress::ALL {
            assert_eq!(ChallengeProgress::parse(p.as_str()), Some(*p));
        }
        for s in BindingStatus::ALL {
            assert_eq!(BindingStatus::parse(s.as_str()), Some(*s));
        }
        assert_eq!(BindingStatus::parse("Active"), None);
        assert_eq!(ChallengeProgress::parse("expired"), None);
    }
}
