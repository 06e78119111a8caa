//! Canned answers for the servers an app reaches: [`HttpStub`], [`SqlStub`], [`RedisStub`]
//! and [`MqttStub`]. A stub matches calls by pattern, where `*` stands for any run of
//! characters; when several match, the one added last answers, so a test can override a
//! stub it shares with others.

use std::time::Duration;

use rotor_host::capabilities::virtual_services::{
    HttpCall, HttpFailure, HttpReply, MqttCall, RedisCall, RedisReply, SqlCall, SqlRows, SqlValue,
};

/// Whether `text` matches `pattern`, in which `*` matches any run of characters (none too)
/// and everything else matches itself.
pub fn glob_matches(pattern: &str, text: &str) -> bool {
    let pattern = pattern.as_bytes();
    let text = text.as_bytes();
    // The classic two-pointer walk: on a mismatch, let the last `*` swallow one more byte.
    let (mut p, mut t) = (0, 0);
    let mut resume: Option<(usize, usize)> = None;
    while t < text.len() {
        if p < pattern.len() && pattern[p] == b'*' {
            resume = Some((p, t));
            p += 1;
        } else if p < pattern.len() && pattern[p] == text[t] {
            p += 1;
            t += 1;
        } else if let Some((star, swallowed)) = resume {
            p = star + 1;
            t = swallowed + 1;
            resume = Some((star, swallowed + 1));
        } else {
            return false;
        }
    }
    pattern[p..].iter().all(|&c| c == b'*')
}

/// `statement` with each run of white space made one space and the ends trimmed, so that a
/// stub need not copy a statement's line breaks.
pub fn normalize_sql(statement: &str) -> String {
    statement.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// A canned answer to outbound HTTP requests whose method and URL match.
#[derive(Debug, Clone)]
pub struct HttpStub {
    method: String,
    url: String,
    answer: Result<HttpReply, HttpFailure>,
    delay: Option<Duration>,
}

impl HttpStub {
    /// Answers `method` (`*` for any) requests to URLs matching `url`: `200` with no body
    /// until told otherwise.
    pub fn new(method: &str, url: &str) -> HttpStub {
        HttpStub {
            method: method.to_ascii_uppercase(),
            url: url.to_owned(),
            answer: Ok(HttpReply {
                status: 200,
                ..HttpReply::default()
            }),
            delay: None,
        }
    }

    /// Answers `GET` requests to `url`.
    pub fn get(url: &str) -> HttpStub {
        HttpStub::new("GET", url)
    }

    /// Answers `POST` requests to `url`.
    pub fn post(url: &str) -> HttpStub {
        HttpStub::new("POST", url)
    }

    /// Answers with `status`.
    pub fn status(mut self, status: u16) -> HttpStub {
        self.reply_mut().status = status;
        self
    }

    /// Adds a response header.
    pub fn header(mut self, name: &str, value: &str) -> HttpStub {
        self.reply_mut()
            .headers
            .push((name.to_ascii_lowercase(), value.to_owned()));
        self
    }

    /// Answers with `body`.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> HttpStub {
        self.reply_mut().body = body.into();
        self
    }

    /// Answers with `value` as JSON, with its `content-type`.
    pub fn json(self, value: &serde_json::Value) -> HttpStub {
        self.header("content-type", "application/json")
            .body(value.to_string())
    }

    /// Fails the request instead of answering it, as `failure` says.
    pub fn fail(mut self, failure: HttpFailure) -> HttpStub {
        self.answer = Err(failure);
        self
    }

    /// Waits `delay` before answering (or failing), to test timeouts and deadlines.
    pub fn delay(mut self, delay: Duration) -> HttpStub {
        self.delay = Some(delay);
        self
    }

    fn reply_mut(&mut self) -> &mut HttpReply {
        if self.answer.is_err() {
            self.answer = Ok(HttpReply::default());
        }
        self.answer.as_mut().expect("made Ok above")
    }

    pub(crate) fn matches(&self, call: &HttpCall) -> bool {
        (self.method == "*" || self.method == call.method) && glob_matches(&self.url, &call.url)
    }

    pub(crate) fn answer(&self) -> (Option<Duration>, Result<HttpReply, HttpFailure>) {
        (self.delay, self.answer.clone())
    }
}

/// Which database a [`SqlStub`] stands in for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Database {
    /// PostgreSQL.
    Postgres,
    /// MySQL.
    Mysql,
}

/// Canned rows (or a count, or an error) for statements that match.
#[derive(Debug, Clone)]
pub struct SqlStub {
    pub(crate) database: Database,
    statement: String,
    parameters: Option<Vec<SqlValue>>,
    answer: Result<SqlRows, String>,
}

impl SqlStub {
    /// Answers PostgreSQL statements matching `statement` (white space normalized, `*` for
    /// any text): no rows, until told otherwise.
    pub fn postgres(statement: &str) -> SqlStub {
        SqlStub::new(Database::Postgres, statement)
    }

    /// Answers MySQL statements matching `statement`, as [`SqlStub::postgres`] does.
    pub fn mysql(statement: &str) -> SqlStub {
        SqlStub::new(Database::Mysql, statement)
    }

    fn new(database: Database, statement: &str) -> SqlStub {
        SqlStub {
            database,
            statement: normalize_sql(statement),
            parameters: None,
            answer: Ok(SqlRows::default()),
        }
    }

    /// Matches only calls with exactly these parameters.
    pub fn with_parameters(mut self, parameters: Vec<SqlValue>) -> SqlStub {
        self.parameters = Some(parameters);
        self
    }

    /// Answers with these columns and rows.
    pub fn rows(mut self, columns: &[&str], rows: Vec<Vec<SqlValue>>) -> SqlStub {
        let answer = self.rows_mut();
        answer.columns = columns.iter().map(|c| (*c).to_owned()).collect();
        answer.rows = rows;
        self
    }

    /// Answers an `execute` with this many changed rows.
    pub fn rows_affected(mut self, count: u64) -> SqlStub {
        self.rows_mut().rows_affected = count;
        self
    }

    /// Fails the statement with `message`, as a server's error would.
    pub fn fail(mut self, message: &str) -> SqlStub {
        self.answer = Err(message.to_owned());
        self
    }

    fn rows_mut(&mut self) -> &mut SqlRows {
        if self.answer.is_err() {
            self.answer = Ok(SqlRows::default());
        }
        self.answer.as_mut().expect("made Ok above")
    }

    pub(crate) fn matches(&self, database: Database, call: &SqlCall) -> bool {
        self.database == database
            && glob_matches(&self.statement, &normalize_sql(&call.statement))
            && self
                .parameters
                .as_ref()
                .is_none_or(|parameters| *parameters == call.parameters)
    }

    pub(crate) fn answer(&self) -> Result<SqlRows, String> {
        self.answer.clone()
    }
}

/// Canned replies to Redis commands that match.
#[derive(Debug, Clone)]
pub struct RedisStub {
    command: String,
    key: String,
    answer: Result<Vec<RedisReply>, String>,
}

impl RedisStub {
    /// Answers `command` (`GET`, `PUBLISH`, ...; `*` for any) when its first argument (the
    /// key or channel) matches `key`: with `OK` until told otherwise.
    pub fn new(command: &str, key: &str) -> RedisStub {
        RedisStub {
            command: command.to_ascii_uppercase(),
            key: key.to_owned(),
            answer: Ok(vec![RedisReply::Status("OK".into())]),
        }
    }

    /// Takes `PUBLISH`es to channels matching `channel`, answering that one subscriber
    /// got the message.
    pub fn publish(channel: &str) -> RedisStub {
        RedisStub::new("PUBLISH", channel).reply(vec![RedisReply::Int(1)])
    }

    /// Answers with `replies` (one for most commands; one per member for `SMEMBERS`).
    pub fn reply(mut self, replies: Vec<RedisReply>) -> RedisStub {
        self.answer = Ok(replies);
        self
    }

    /// Fails the command with `message`.
    pub fn fail(mut self, message: &str) -> RedisStub {
        self.answer = Err(message.to_owned());
        self
    }

    pub(crate) fn matches(&self, call: &RedisCall) -> bool {
        let key = call
            .arguments
            .first()
            .map(|key| String::from_utf8_lossy(key).into_owned())
            .unwrap_or_default();
        (self.command == "*" || self.command == call.command) && glob_matches(&self.key, &key)
    }

    pub(crate) fn answer(&self) -> Result<Vec<RedisReply>, String> {
        self.answer.clone()
    }
}

/// Takes (or refuses) MQTT messages to topics that match.
#[derive(Debug, Clone)]
pub struct MqttStub {
    topic: String,
    answer: Result<(), String>,
}

impl MqttStub {
    /// Takes messages published to topics matching `topic`.
    pub fn topic(topic: &str) -> MqttStub {
        MqttStub {
            topic: topic.to_owned(),
            answer: Ok(()),
        }
    }

    /// Refuses the messages with `message`, as a broker that went away would.
    pub fn fail(mut self, message: &str) -> MqttStub {
        self.answer = Err(message.to_owned());
        self
    }

    pub(crate) fn matches(&self, call: &MqttCall) -> bool {
        glob_matches(&self.topic, &call.topic)
    }

    pub(crate) fn answer(&self) -> Result<(), String> {
        self.answer.clone()
    }
}

/// Any stub, as [`crate::VirtualHostBuilder::stub`] and [`crate::VirtualHost::stub`] take it.
#[derive(Debug, Clone)]
pub enum Stub {
    /// Outbound HTTP.
    Http(HttpStub),
    /// PostgreSQL or MySQL.
    Sql(SqlStub),
    /// Redis.
    Redis(RedisStub),
    /// MQTT.
    Mqtt(MqttStub),
}

impl From<HttpStub> for Stub {
    fn from(stub: HttpStub) -> Stub {
        Stub::Http(stub)
    }
}

impl From<SqlStub> for Stub {
    fn from(stub: SqlStub) -> Stub {
        Stub::Sql(stub)
    }
}

impl From<RedisStub> for Stub {
    fn from(stub: RedisStub) -> Stub {
        Stub::Redis(stub)
    }
}

impl From<MqttStub> for Stub {
    fn from(stub: MqttStub) -> Stub {
        Stub::Mqtt(stub)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_star_matches_any_run_of_characters() {
        assert!(glob_matches(
            "https://api.example.com/*",
            "https://api.example.com/users/1"
        ));
        assert!(glob_matches("*", ""));
        assert!(glob_matches("a*c*e", "abcde"));
        assert!(glob_matches("a*e", "ae"));
        assert!(!glob_matches("a*e", "aef"));
        assert!(!glob_matches(
            "https://api.example.com/*",
            "https://evil.example/"
        ));
        assert!(glob_matches("*b*b", "abab"));
        assert!(!glob_matches("exact", "exactly"));
    }

    #[test]
    fn statements_match_whatever_their_line_breaks() {
        let stub = SqlStub::postgres("SELECT id, name\n  FROM orders WHERE id = $1");
        let call = SqlCall {
            component: "c".into(),
            address: "postgres://db/test".into(),
            statement: "SELECT id, name FROM orders\tWHERE id = $1".into(),
            parameters: vec![SqlValue::Integer(1)],
            wants_rows: true,
        };
        assert!(stub.matches(Database::Postgres, &call));
        assert!(!stub.matches(Database::Mysql, &call));
        let narrowed = stub.with_parameters(vec![SqlValue::Integer(2)]);
        assert!(!narrowed.matches(Database::Postgres, &call));
    }
}
