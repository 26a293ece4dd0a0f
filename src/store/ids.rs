//! Identifier types of the domain as column values: a [`MyKeyId`] is stored as its text.

use diesel::deserialize::{self, FromSql, FromSqlRow};
use diesel::expression::AsExpression;
use diesel::pg::Pg;
use diesel::serialize::{self, IsNull, Output, ToSql};
use diesel::sql_types::Text;
use diesel::sqlite::Sqlite;

use super::db::MultiBackend;
use crate::domain::MyKeyId;

/// Makes diesel's derives implement the expression and row traits for [`MyKeyId`], which
/// lives in `domain` (free of diesel); never constructed.
#[derive(AsExpression, FromSqlRow)]
#[diesel(foreign_derive, sql_type = Text)]
#[expect(dead_code, reason = "a carrier for diesel's foreign derives")]
struct StoredMyKeyId(MyKeyId);

impl ToSql<Text, Sqlite> for MyKeyId {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Sqlite>) -> serialize::Result {
        out.set_value(self.as_str());
        Ok(IsNull::No)
    }
}

impl ToSql<Text, Pg> for MyKeyId {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, Pg>) -> serialize::Result {
        <str as ToSql<Text, Pg>>::to_sql(self.as_str(), &mut out.reborrow())
    }
}

impl ToSql<Text, MultiBackend> for MyKeyId {
    fn to_sql<'b>(&'b self, out: &mut Output<'b, '_, MultiBackend>) -> serialize::Result {
        out.set_value((Text, self));
        Ok(IsNull::No)
    }
}

impl FromSql<Text, Sqlite> for MyKeyId {
    fn from_sql(
        bytes: <Sqlite as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        Ok(MyKeyId::from_stored(
            <String as FromSql<Text, Sqlite>>::from_sql(bytes)?,
        ))
    }
}

impl FromSql<Text, Pg> for MyKeyId {
    fn from_sql(
        bytes: <Pg as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        Ok(MyKeyId::from_stored(
            <String as FromSql<Text, Pg>>::from_sql(bytes)?,
        ))
    }
}

impl FromSql<Text, MultiBackend> for MyKeyId {
    fn from_sql(
        bytes: <MultiBackend as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        bytes.from_sql::<Self, Text>()
    }
}
