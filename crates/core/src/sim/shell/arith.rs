//! Arithmetic expansion `$((…))`: C integer expressions on 64-bit signed values, as dash does.

/// Where arithmetic reads and assigns variables.
pub(crate) trait Vars {
    /// The value of a variable, if set.
    fn get(&self, name: &str) -> Option<String>;
    /// Assigns a variable (for `=`, `+=`, `++`…).
    fn set(&mut self, name: &str, value: String);
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Num(i64),
    Name(String),
    Op(&'static str),
}

const OPS: [&str; 41] = [
    "<<=", ">>=", "**", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "+=", "-=", "*=", "/=",
    "%=", "&=", "^=", "|=", "++", "--", "+", "-", "*", "/", "%", "<", ">", "&", "^", "|", "!", "~",
    "?", ":", "=", "(", ")", ",", "[", "]",
];

fn tokenize(src: &str) -> Result<Vec<Tok>, String> {
    let chars: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_alphanumeric() {
                i += 1;
            }
            let text: String = chars[start..i].iter().collect();
            out.push(Tok::Num(number(&text).ok_or_else(|| syntax(src))?));
        } else if c.is_ascii_alphabetic() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_ascii_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            out.push(Tok::Name(chars[start..i].iter().collect()));
        } else {
            let rest: String = chars[i..chars.len().min(i + 3)].iter().collect();
            let op = OPS
                .iter()
                .find(|op| rest.starts_with(**op))
                .ok_or_else(|| syntax(src))?;
            out.push(Tok::Op(op));
            i += op.len();
        }
    }
    Ok(out)
}

/// Parses a C integer constant: decimal, `0x` hex or leading-zero octal.
pub(crate) fn number(text: &str) -> Option<i64> {
    let t = text.trim();
    let (neg, t) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let v = if let Some(hex) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
        u64::from_str_radix(hex, 16).ok()?
    } else if t.len() > 1 && t.starts_with('0') {
        u64::from_str_radix(&t[1..], 8).ok()?
    } else {
        t.parse::<u64>().ok()?
    };
    #[allow(clippy::cast_possible_wrap)]
    let v = v as i64;
    Some(if neg { v.wrapping_neg() } else { v })
}

fn syntax(src: &str) -> String {
    format!("arithmetic expression: expecting primary: \"{src}\"")
}

/// Evaluates `src`; the error is dash's text after `sh: 1: `.
pub(crate) fn eval(src: &str, vars: &mut dyn Vars) -> Result<i64, String> {
    let toks = tokenize(src)?;
    if toks.is_empty() {
        return Ok(0);
    }
    let mut p = Eval {
        toks,
        pos: 0,
        vars,
        src,
        skip: 0,
        depth: 0,
    };
    let v = p.comma()?;
    if p.pos < p.toks.len() {
        return Err(syntax(src));
    }
    Ok(v)
}

struct Eval<'a> {
    toks: Vec<Tok>,
    pos: usize,
    vars: &'a mut dyn Vars,
    src: &'a str,
    /// Inside an unevaluated branch (`0 && x=1`): no assignments, no division errors.
    skip: usize,
    depth: usize,
}

type Res = Result<i64, String>;

const BINARY: [(&str, u8); 18] = [
    ("||", 1),
    ("&&", 2),
    ("|", 3),
    ("^", 4),
    ("&", 5),
    ("==", 6),
    ("!=", 6),
    ("<", 7),
    (">", 7),
    ("<=", 7),
    (">=", 7),
    ("<<", 8),
    (">>", 8),
    ("+", 9),
    ("-", 9),
    ("*", 10),
    ("/", 10),
    ("%", 10),
];

impl Eval<'_> {
    fn peek_op(&self) -> Option<&'static str> {
        match self.toks.get(self.pos) {
            Some(Tok::Op(op)) => Some(op),
            _ => None,
        }
    }

    fn expect(&mut self, op: &str) -> Result<(), String> {
        if self.peek_op() == Some(op) {
            self.pos += 1;
            Ok(())
        } else {
            Err(syntax(self.src))
        }
    }

    fn comma(&mut self) -> Res {
        let mut v = self.assign()?;
        while self.peek_op() == Some(",") {
            self.pos += 1;
            v = self.assign()?;
        }
        Ok(v)
    }

    fn assign(&mut self) -> Res {
        if let Some(Tok::Name(name)) = self.toks.get(self.pos).cloned()
            && let Some(Tok::Op(op)) = self.toks.get(self.pos + 1)
            && op.ends_with('=')
            && !matches!(*op, "==" | "!=" | "<=" | ">=")
        {
            let op = *op;
            self.pos += 2;
            let rhs = self.assign()?;
            let v = if op == "=" {
                rhs
            } else {
                let cur = self.var(&name)?;
                self.apply(&op[..op.len() - 1], cur, rhs)?
            };
            self.store(&name, v);
            return Ok(v);
        }
        self.ternary()
    }

    fn ternary(&mut self) -> Res {
        let cond = self.binary(1)?;
        if self.peek_op() != Some("?") {
            return Ok(cond);
        }
        self.pos += 1;
        if cond == 0 {
            self.skip += 1;
        }
        let a = self.assign()?;
        if cond == 0 {
            self.skip -= 1;
        }
        self.expect(":")?;
        if cond != 0 {
            self.skip += 1;
        }
        let b = self.assign()?;
        if cond != 0 {
            self.skip -= 1;
        }
        Ok(if cond != 0 { a } else { b })
    }

    fn binary(&mut self, min: u8) -> Res {
        let mut lhs = self.unary()?;
        loop {
            let Some(op) = self.peek_op() else {
                return Ok(lhs);
            };
            let Some(&(_, prec)) = BINARY.iter().find(|(o, _)| *o == op) else {
                return Ok(lhs);
            };
            if prec < min {
                return Ok(lhs);
            }
            self.pos += 1;
            let short = (op == "&&" && lhs == 0) || (op == "||" && lhs != 0);
            if short {
                self.skip += 1;
            }
            let rhs = self.binary(prec + 1)?;
            if short {
                self.skip -= 1;
            }
            lhs = self.apply(op, lhs, rhs)?;
        }
    }

    fn apply(&self, op: &str, a: i64, b: i64) -> Res {
        Ok(match op {
            "||" => i64::from(a != 0 || b != 0),
            "&&" => i64::from(a != 0 && b != 0),
            "|" => a | b,
            "^" => a ^ b,
            "&" => a & b,
            "==" => i64::from(a == b),
            "!=" => i64::from(a != b),
            "<" => i64::from(a < b),
            ">" => i64::from(a > b),
            "<=" => i64::from(a <= b),
            ">=" => i64::from(a >= b),
            "<<" => a.wrapping_shl(u32::try_from(b & 63).unwrap_or(0)),
            ">>" => a.wrapping_shr(u32::try_from(b & 63).unwrap_or(0)),
            "+" => a.wrapping_add(b),
            "-" => a.wrapping_sub(b),
            "*" => a.wrapping_mul(b),
            "/" | "%" if b == 0 => {
                if self.skip > 0 {
                    0
                } else {
                    return Err("arithmetic expression: division by zero: ".to_owned()
                        + &format!("\"{}\"", self.src));
                }
            }
            "/" => a.wrapping_div(b),
            "%" => a.wrapping_rem(b),
            _ => return Err(syntax(self.src)),
        })
    }

    fn unary(&mut self) -> Res {
        self.depth += 1;
        if self.depth > 200 {
            return Err(syntax(self.src));
        }
        let v = self.unary_inner();
        self.depth -= 1;
        v
    }

    fn unary_inner(&mut self) -> Res {
        match self.peek_op() {
            Some("-") => {
                self.pos += 1;
                Ok(self.unary()?.wrapping_neg())
            }
            Some("+") => {
                self.pos += 1;
                self.unary()
            }
            Some("!") => {
                self.pos += 1;
                Ok(i64::from(self.unary()? == 0))
            }
            Some("~") => {
                self.pos += 1;
                Ok(!self.unary()?)
            }
            Some(op @ ("++" | "--")) => {
                self.pos += 1;
                let Some(Tok::Name(name)) = self.toks.get(self.pos).cloned() else {
                    return Err(syntax(self.src));
                };
                self.pos += 1;
                let v = self.var(&name)? + if op == "++" { 1 } else { -1 };
                self.store(&name, v);
                Ok(v)
            }
            _ => self.primary(),
        }
    }

    fn primary(&mut self) -> Res {
        let tok = self.toks.get(self.pos).cloned();
        self.pos += 1;
        match tok {
            Some(Tok::Num(n)) => Ok(n),
            Some(Tok::Name(name)) => {
                let v = self.var(&name)?;
                if let Some(op @ ("++" | "--")) = self.peek_op() {
                    self.pos += 1;
                    self.store(&name, if op == "++" { v + 1 } else { v - 1 });
                }
                Ok(v)
            }
            Some(Tok::Op("(")) => {
                let v = self.comma()?;
                self.expect(")")?;
                Ok(v)
            }
            _ => Err(syntax(self.src)),
        }
    }

    fn var(&self, name: &str) -> Res {
        match self.vars.get(name) {
            None => Ok(0),
            Some(v) if v.trim().is_empty() => Ok(0),
            Some(v) => number(&v).ok_or_else(|| format!("Illegal number: {v}")),
        }
    }

    fn store(&mut self, name: &str, v: i64) {
        if self.skip == 0 {
            self.vars.set(name, v.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::{Vars, eval};

    impl Vars for BTreeMap<String, String> {
        fn get(&self, name: &str) -> Option<String> {
            BTreeMap::get(self, name).cloned()
        }
        fn set(&mut self, name: &str, value: String) {
            self.insert(name.to_owned(), value);
        }
    }

    fn ev(src: &str) -> Result<i64, String> {
        let mut vars = BTreeMap::from([("x".to_owned(), "5".to_owned())]);
        eval(src, &mut vars)
    }

    #[test]
    fn precedence_and_operators() {
        assert_eq!(ev("1 + 2 * 3"), Ok(7));
        assert_eq!(ev("(1 + 2) * 3"), Ok(9));
        assert_eq!(ev("x * 2 - 1"), Ok(9));
        assert_eq!(ev("10 % 3 == 1 && 2 > 1"), Ok(1));
        assert_eq!(ev("0x10 + 010"), Ok(24));
        assert_eq!(ev("x > 3 ? 100 : 200"), Ok(100));
        assert_eq!(ev("-x + ~0"), Ok(-6));
        assert_eq!(ev("1 << 4 | 1"), Ok(17));
        assert_eq!(ev(""), Ok(0));
    }

    #[test]
    fn assignments_change_variables() {
        let mut vars = BTreeMap::new();
        assert_eq!(eval("i = 3, i += 2", &mut vars), Ok(5));
        assert_eq!(vars["i"], "5");
        assert_eq!(eval("i++", &mut vars), Ok(5));
        assert_eq!(vars["i"], "6");
        assert_eq!(eval("0 && (i = 100)", &mut vars), Ok(0));
        assert_eq!(vars["i"], "6");
    }

    #[test]
    fn errors_in_dashs_words() {
        assert_eq!(
            ev("1/0"),
            Err("arithmetic expression: division by zero: \"1/0\"".into())
        );
        assert!(ev("1 +").unwrap_err().contains("expecting primary"));
        assert_eq!(ev("0 && 1/0"), Ok(0));
    }
}
