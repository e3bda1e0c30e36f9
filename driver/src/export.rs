//! A flat [`Table`] written for other tools: CSV and TSV (RFC 4180 quoting,
//! a header row), JSON lines (one object per key), and Parquet (typed
//! columns, Snappy-compressed), each with every column and every digit.

use std::io::Write;
use std::sync::Arc;

use anyhow::Context;
use parquet::basic::{Compression, IntType, LogicalType, Repetition, Type as Physical};
use parquet::data_type::{BoolType, ByteArray, ByteArrayType, DoubleType, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

use crate::table::{Cell, Kind, Table};

/// CSV (`delimiter` `,`) or TSV (`\t`): a header row of the column names,
/// then a row per key; a null cell is empty, a non-finite number `inf`,
/// `-inf` or `nan` (as pandas and DuckDB read them).
pub fn delimited(out: &mut dyn Write, t: &Table, delimiter: u8) -> anyhow::Result<()> {
    let mut w = csv::WriterBuilder::new()
        .delimiter(delimiter)
        .from_writer(out);
    w.write_record(t.columns.iter().map(|c| c.name.as_str()))?;
    for row in &t.rows {
        w.write_record(row.iter().map(Cell::text))?;
    }
    w.flush()?;
    Ok(())
}

/// One JSON object per key, fields in column order; integer keys as
/// numbers, others as strings, a missing key field as `null`.
pub fn jsonl(out: &mut dyn Write, t: &Table) -> anyhow::Result<()> {
    use serde_json::Value;
    for row in &t.rows {
        let mut o = serde_json::Map::new();
        for (c, cell) in t.columns.iter().zip(row) {
            let v = match cell {
                Cell::Null => Value::Null,
                Cell::Int(n) => Value::from(*n),
                Cell::UInt(n) => Value::from(*n),
                Cell::Num(x) if x.is_finite() => Value::from(*x),
                Cell::Num(_) => Value::String(cell.text()),
                Cell::Bool(b) => Value::Bool(*b),
                Cell::Text(s) => Value::String(s.clone()),
            };
            o.insert(c.name.clone(), v);
        }
        serde_json::to_writer(&mut *out, &Value::Object(o))?;
        out.write_all(b"\n")?;
    }
    Ok(())
}

/// Rows per Parquet row group.
const ROW_GROUP: usize = 1 << 20;

/// How a column is stored in Parquet.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Stored {
    Int64,
    /// Counts past `i64::MAX`: `UINT_64`.
    UInt64,
    Double,
    Bool,
    Text,
}

fn stored(t: &Table, j: usize) -> Stored {
    match t.kind(j) {
        Kind::Int => {
            let big = t.rows.iter().any(|r| matches!(r[j], Cell::UInt(_)));
            let negative = t.rows.iter().any(|r| matches!(r[j], Cell::Int(n) if n < 0));
            match (big, negative) {
                (false, _) => Stored::Int64,
                (true, false) => Stored::UInt64,
                (true, true) => Stored::Text,
            }
        }
        Kind::Num => Stored::Double,
        Kind::Bool => Stored::Bool,
        Kind::Text => Stored::Text,
    }
}

/// A Parquet file: one optional column per table column (`INT64`,
/// `DOUBLE`, `BOOLEAN` or `UTF8` as the column's cells are), Snappy
/// compressed.
pub fn parquet(out: &mut dyn Write, t: &Table) -> anyhow::Result<()> {
    let kinds: Vec<Stored> = (0..t.columns.len()).map(|j| stored(t, j)).collect();
    let fields = t
        .columns
        .iter()
        .zip(&kinds)
        .map(|(c, k)| {
            let (physical, logical) = match k {
                Stored::Int64 => (Physical::INT64, None),
                Stored::UInt64 => (
                    Physical::INT64,
                    Some(LogicalType::Integer(IntType {
                        bit_width: 64,
                        is_signed: false,
                    })),
                ),
                Stored::Double => (Physical::DOUBLE, None),
                Stored::Bool => (Physical::BOOLEAN, None),
                Stored::Text => (Physical::BYTE_ARRAY, Some(LogicalType::String)),
            };
            Type::primitive_type_builder(&c.name, physical)
                .with_repetition(Repetition::OPTIONAL)
                .with_logical_type(logical)
                .build()
                .map(Arc::new)
        })
        .collect::<Result<Vec<_>, _>>()
        .context("the Parquet schema")?;
    let schema = Type::group_type_builder("mapfold")
        .with_fields(fields)
        .build()
        .context("the Parquet schema")?;
    let props = WriterProperties::builder()
        .set_compression(Compression::SNAPPY)
        .build();
    let mut buf = Vec::new();
    let mut w = SerializedFileWriter::new(&mut buf, Arc::new(schema), Arc::new(props))?;
    for rows in t.rows.chunks(ROW_GROUP) {
        let mut group = w.next_row_group()?;
        let mut j = 0;
        while let Some(mut col) = group.next_column()? {
            let cells: Vec<&Cell> = rows.iter().map(|r| &r[j]).collect();
            let defs: Vec<i16> = cells.iter().map(|c| i16::from(**c != Cell::Null)).collect();
            let present = cells.iter().filter(|c| ***c != Cell::Null);
            match kinds[j] {
                Stored::Int64 | Stored::UInt64 => {
                    let v: Vec<i64> = present
                        .map(|c| match c {
                            Cell::Int(n) => *n,
                            // UINT_64 is stored in INT64's bits.
                            Cell::UInt(n) => i64::from_ne_bytes(n.to_ne_bytes()),
                            _ => 0,
                        })
                        .collect();
                    col.typed::<Int64Type>()
                        .write_batch(&v, Some(&defs), None)?;
                }
                Stored::Double => {
                    let v: Vec<f64> = present.map(|c| c.as_f64().unwrap_or(f64::NAN)).collect();
                    col.typed::<DoubleType>()
                        .write_batch(&v, Some(&defs), None)?;
                }
                Stored::Bool => {
                    let v: Vec<bool> = present.map(|c| *c == &Cell::Bool(true)).collect();
                    col.typed::<BoolType>().write_batch(&v, Some(&defs), None)?;
                }
                Stored::Text => {
                    let v: Vec<ByteArray> = present
                        .map(|c| ByteArray::from(c.text().as_str()))
                        .collect();
                    col.typed::<ByteArrayType>()
                        .write_batch(&v, Some(&defs), None)?;
                }
            }
            col.close()?;
            j += 1;
        }
        group.close()?;
    }
    w.close()?;
    out.write_all(&buf)?;
    Ok(())
}
