//! A request's query string read as the WHATWG URLSearchParams reads it (the TypeScript guest's
//! `url.searchParams.get`): `+` is a space, percent escapes are decoded, the first value wins.
use percent_encoding::percent_decode_str;

pub struct Query(Vec<(String, String)>);

fn decode(s: &str) -> String {
    percent_decode_str(&s.replace('+', " ")).decode_utf8_lossy().into_owned()
}

impl Query {
    pub fn parse(raw: Option<&str>) -> Self {
        let pairs = raw
            .unwrap_or("")
            .split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
            .collect();
        Self(pairs)
    }

    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Every value of a repeatable parameter, in order (`searchParams.getAll`).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0.iter().filter(move |(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_like_url_search_params() {
        let q = Query::parse(Some("path=%2Ftmp%2Fa+b.txt&username=&x&path=second&sig=v1_a%2Bb"));
        assert_eq!(q.get("path"), Some("/tmp/a b.txt"));
        assert_eq!(q.get("username"), Some(""));
        assert_eq!(q.get("x"), Some(""));
        assert_eq!(q.get("sig"), Some("v1_a+b"));
        assert_eq!(q.get("missing"), None);
        assert_eq!(Query::parse(None).get("path"), None);
    }
}
