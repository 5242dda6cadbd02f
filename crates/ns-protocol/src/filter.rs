//! Row conditions (`location=CA1, id>=8`, `quality=good`, `correct=true`,
//! `id=3|5|8`):
//! how users subset channels, units and trials, parsed and tested here once
//! for the app and the service. Never evaluated as code.

use serde::{Deserialize, Serialize};

/// How a value is compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    Eq,
    Ne,
    Contains,
    Lt,
    Le,
    Gt,
    Ge,
}

/// One condition: `column op value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    pub column: String,
    pub op: Op,
    pub value: String,
}

/// Reads `a=1, b~x & c>=2` (conditions separated by `,` or `&`; `==` is
/// `=`). An empty text is no condition.
///
/// # Errors
/// A condition without a column or an operator, naming it.
pub fn parse(text: &str) -> Result<Vec<Condition>, String> {
    text.split([',', '&'])
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(|c| {
            for (op_text, op) in [
                ("==", Op::Eq),
                ("!=", Op::Ne),
                ("<=", Op::Le),
                (">=", Op::Ge),
                ("=", Op::Eq),
                ("~", Op::Contains),
                ("<", Op::Lt),
                (">", Op::Gt),
            ] {
                if let Some((column, value)) = c.split_once(op_text) {
                    let column = column.trim();
                    if column.is_empty() {
                        return Err(format!("{c:?}: no column before {op_text}"));
                    }
                    return Ok(Condition {
                        column: column.to_string(),
                        op,
                        value: value.trim().to_string(),
                    });
                }
            }
            Err(format!(
                "{c:?}: write column=value (or !=, ~, <, <=, >, >=)"
            ))
        })
        .collect()
}

impl Condition {
    /// Whether a cell (as text) satisfies it: numbers compare as numbers,
    /// `=`/`!=` also as text (so `true`, `CA1` work).
    pub fn holds(&self, text: &str) -> bool {
        let number = |s: &str| s.trim().parse::<f64>().ok();
        // `=`: the value, or any of `a|b|c` (a set of ids).
        let equal = |v: &str| {
            text == v || matches!((number(text), number(v)), (Some(a), Some(b)) if a == b)
        };
        let any = || self.value == text || self.value.split('|').any(|v| equal(v.trim()));
        match self.op {
            Op::Eq => any(),
            Op::Ne => !any(),
            Op::Contains => text.contains(&self.value),
            Op::Lt | Op::Le | Op::Gt | Op::Ge => match (number(text), number(&self.value)) {
                (Some(a), Some(b)) => match self.op {
                    Op::Lt => a < b,
                    Op::Le => a <= b,
                    Op::Gt => a > b,
                    _ => a >= b,
                },
                _ => false,
            },
        }
    }
}

/// The rows (of `n`) whose cells satisfy every condition; `columns` are
/// `(name, text per row)`. An unknown column is an error naming the known
/// ones.
///
/// # Errors
/// A condition on a column that is not in `columns`.
pub fn select(
    conditions: &[Condition],
    columns: &[(&str, &[String])],
    n: usize,
) -> Result<Vec<usize>, String> {
    let mut resolved = Vec::new();
    for cond in conditions {
        let Some((_, values)) = columns.iter().find(|(c, _)| *c == cond.column) else {
            let names: Vec<&str> = columns.iter().map(|(c, _)| *c).collect();
            return Err(format!(
                "no column {:?}; columns: {}",
                cond.column,
                names.join(", ")
            ));
        };
        resolved.push((cond, *values));
    }
    Ok((0..n)
        .filter(|i| {
            resolved
                .iter()
                .all(|(cond, values)| values.get(*i).is_some_and(|v| cond.holds(v)))
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conditions_parse_and_hold() {
        let c = parse("location == CA1, id>=8 & name~sh").expect("parses");
        assert_eq!(c.len(), 3);
        assert_eq!(c[0].op, Op::Eq);
        assert_eq!(c[0].value, "CA1");
        assert!(c[1].holds("8") && c[1].holds("9.5") && !c[1].holds("7") && !c[1].holds("x"));
        assert!(c[2].holds("shank0"));
        assert!(parse("").expect("empty").is_empty());
        assert!(parse("=3").is_err());
        assert!(parse("location").is_err());
        // Numbers equal as numbers, text as text.
        let eq = &parse("x=1").expect("parses")[0];
        assert!(eq.holds("1.0") && eq.holds("1") && !eq.holds("2"));
        let t = &parse("correct=true").expect("parses")[0];
        assert!(t.holds("true") && !t.holds("false"));
        // A set of values.
        let set = &parse("id=3|5| 8").expect("parses")[0];
        assert!(set.holds("3") && set.holds("8") && set.holds("5.0") && !set.holds("4"));
        let not = &parse("id!=3|5").expect("parses")[0];
        assert!(!not.holds("3") && not.holds("4"));
    }

    #[test]
    fn rows_are_selected() {
        let loc: Vec<String> = ["CA1", "CA3", "CA1"]
            .iter()
            .map(ToString::to_string)
            .collect();
        let cols = [("location", loc.as_slice())];
        let c = parse("location=CA1").expect("parses");
        assert_eq!(select(&c, &cols, 3), Ok(vec![0, 2]));
        let bad = parse("depth>1").expect("parses");
        assert!(
            select(&bad, &cols, 3)
                .expect_err("unknown")
                .contains("no column \"depth\"")
        );
    }
}
