//! The virtual host's side of [`VirtualServices`]: in-memory key-value stores, the stubs,
//! and the record of every call.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard};

use rotor_host::capabilities::key_value::store::Store;
use rotor_host::capabilities::virtual_services::{
    Answer, HttpCall, HttpFailure, HttpReply, MqttCall, RedisCall, RedisReply, SqlCall, SqlRows,
    VirtualServices,
};

use crate::calls::{Calls, HostCall};
use crate::stubs::{Database, HttpStub, MqttStub, RedisStub, SqlStub, Stub};

/// What a test has set up and what the app has done, shared by every component.
pub struct Recorder {
    /// Itself, for the stores it makes to report to.
    me: std::sync::Weak<Recorder>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    calls: Vec<HostCall>,
    unstubbed: Vec<String>,
    http: Vec<HttpStub>,
    sql: Vec<SqlStub>,
    redis: Vec<RedisStub>,
    mqtt: Vec<MqttStub>,
    stores: BTreeMap<String, Arc<MemoryStore>>,
}

impl Recorder {
    /// A recorder with no stubs, no stores and no calls.
    pub fn new() -> Arc<Recorder> {
        Arc::new_cyclic(|me| Recorder {
            me: me.clone(),
            state: Mutex::default(),
        })
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A test that panicked while holding the lock leaves consistent data behind.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    fn record(&self, call: HostCall) {
        self.state().calls.push(call);
    }

    /// Passes a stub's answer through; with none, notes the call, as `described` says, for
    /// the test to fail on.
    fn stubbed<T>(&self, found: Option<T>, described: impl FnOnce() -> String) -> Option<T> {
        if found.is_none() {
            self.state().unstubbed.push(described());
        }
        found
    }

    /// Adds a stub; it takes precedence over those added before.
    pub fn add_stub(&self, stub: Stub) {
        let mut state = self.state();
        match stub {
            Stub::Http(stub) => state.http.push(stub),
            Stub::Sql(stub) => state.sql.push(stub),
            Stub::Redis(stub) => state.redis.push(stub),
            Stub::Mqtt(stub) => state.mqtt.push(stub),
        }
    }

    /// The calls recorded so far.
    pub fn calls(&self) -> Calls {
        Calls(self.state().calls.clone())
    }

    /// The calls recorded so far, forgotten from now on.
    pub fn take_calls(&self) -> Calls {
        Calls(std::mem::take(&mut self.state().calls))
    }

    /// The calls no stub answered since the last time this was asked, each described.
    pub fn take_unstubbed(&self) -> Vec<String> {
        std::mem::take(&mut self.state().unstubbed)
    }

    /// The store `label`, made (empty) on first use.
    pub fn store(&self, label: &str) -> Arc<MemoryStore> {
        self.state()
            .stores
            .entry(label.to_owned())
            .or_insert_with(|| {
                Arc::new(MemoryStore {
                    label: label.to_owned(),
                    entries: Mutex::default(),
                    recorder: self.me.clone(),
                })
            })
            .clone()
    }

    fn sql(&self, database: Database, call: SqlCall) -> Result<SqlRows, String> {
        let found = self
            .state()
            .sql
            .iter()
            .rev()
            .find(|stub| stub.matches(database, &call))
            .map(SqlStub::answer);
        let (name, constructor) = match database {
            Database::Postgres => ("PostgreSQL", "postgres"),
            Database::Mysql => ("MySQL", "mysql"),
        };
        let found = self.stubbed(found, || {
            let statement = crate::stubs::normalize_sql(&call.statement);
            format!(
                "{name} statement on {} from component `{}`: {statement} {:?}\n    stub it with SqlStub::{constructor}({statement:?})",
                call.address, call.component, call.parameters,
            )
        });
        self.record(match database {
            Database::Postgres => HostCall::Postgres(call),
            Database::Mysql => HostCall::Mysql(call),
        });
        found.unwrap_or_else(|| {
            Err(format!(
                "no stub answers this {name} statement (rotor-test)"
            ))
        })
    }
}

impl VirtualServices for Recorder {
    fn key_value_store(&self, label: &str) -> Arc<dyn Store> {
        self.store(label)
    }

    fn sqlite_statement(&self, call: SqlCall) {
        self.record(HostCall::Sqlite(call));
    }

    fn http(&self, call: HttpCall) -> Answer<'_, Result<HttpReply, HttpFailure>> {
        let found = self
            .state()
            .http
            .iter()
            .rev()
            .find(|stub| stub.matches(&call))
            .map(HttpStub::answer);
        let found = self.stubbed(found, || {
            format!(
                "HTTP request from component `{}`: {} {}\n    stub it with HttpStub::new({:?}, {:?})",
                call.component, call.method, call.url, call.method, call.url
            )
        });
        self.record(HostCall::Http(call));
        Box::pin(async move {
            let Some((delay, answer)) = found else {
                return Err(HttpFailure::Other(
                    "no stub answers this request (rotor-test)".into(),
                ));
            };
            if let Some(delay) = delay {
                tokio::time::sleep(delay).await;
            }
            answer
        })
    }

    fn postgres(&self, call: SqlCall) -> Answer<'_, Result<SqlRows, String>> {
        let answer = self.sql(Database::Postgres, call);
        Box::pin(async move { answer })
    }

    fn mysql(&self, call: SqlCall) -> Answer<'_, Result<SqlRows, String>> {
        let answer = self.sql(Database::Mysql, call);
        Box::pin(async move { answer })
    }

    fn redis(&self, call: RedisCall) -> Answer<'_, Result<Vec<RedisReply>, String>> {
        let found = self
            .state()
            .redis
            .iter()
            .rev()
            .find(|stub| stub.matches(&call))
            .map(RedisStub::answer);
        let found = self.stubbed(found, || {
            let key = call
                .arguments
                .first()
                .map(|key| String::from_utf8_lossy(key).into_owned())
                .unwrap_or_default();
            format!(
                "Redis command on {} from component `{}`: {} {key}\n    stub it with RedisStub::new({:?}, {key:?})",
                call.address, call.component, call.command, call.command
            )
        });
        self.record(HostCall::Redis(call));
        let answer =
            found.unwrap_or_else(|| Err("no stub answers this Redis command (rotor-test)".into()));
        Box::pin(async move { answer })
    }

    fn mqtt(&self, call: MqttCall) -> Answer<'_, Result<(), String>> {
        let found = self
            .state()
            .mqtt
            .iter()
            .rev()
            .find(|stub| stub.matches(&call))
            .map(MqttStub::answer);
        let found = self.stubbed(found, || {
            format!(
                "MQTT message to {} on {} from component `{}`\n    stub it with MqttStub::topic({:?})",
                call.topic, call.address, call.component, call.topic
            )
        });
        self.record(HostCall::Mqtt(call));
        let answer = found
            .unwrap_or_else(|| Err("no stub takes messages to this topic (rotor-test)".into()));
        Box::pin(async move { answer })
    }
}

/// A key-value store in memory, whose writes are recorded.
pub struct MemoryStore {
    label: String,
    entries: Mutex<BTreeMap<String, Vec<u8>>>,
    recorder: std::sync::Weak<Recorder>,
}

impl MemoryStore {
    fn entries(&self) -> MutexGuard<'_, BTreeMap<String, Vec<u8>>> {
        self.entries.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Writes `value` under `key` without recording it: how a test seeds the store.
    pub fn seed(&self, key: &str, value: Vec<u8>) {
        self.entries().insert(key.to_owned(), value);
    }

    /// The value under `key`.
    pub fn value(&self, key: &str) -> Option<Vec<u8>> {
        self.entries().get(key).cloned()
    }

    /// Every key, sorted.
    pub fn keys(&self) -> Vec<String> {
        self.entries().keys().cloned().collect()
    }

    fn written(&self, key: &str, value: &[u8]) {
        if let Some(recorder) = self.recorder.upgrade() {
            recorder.record(HostCall::KeyValueSet {
                store: self.label.clone(),
                key: key.to_owned(),
                value: value.to_vec(),
            });
        }
    }
}

fn ready<T: Send + 'static>(value: T) -> Answer<'static, T> {
    Box::pin(std::future::ready(value))
}

impl Store for MemoryStore {
    fn get(&self, key: String) -> Answer<'_, Result<Option<Vec<u8>>, String>> {
        ready(Ok(self.value(&key)))
    }

    fn set(&self, key: String, value: Vec<u8>) -> Answer<'_, Result<(), String>> {
        self.written(&key, &value);
        self.entries().insert(key, value);
        ready(Ok(()))
    }

    fn delete(&self, key: String) -> Answer<'_, Result<(), String>> {
        if let Some(recorder) = self.recorder.upgrade() {
            recorder.record(HostCall::KeyValueDelete {
                store: self.label.clone(),
                key: key.clone(),
            });
        }
        self.entries().remove(&key);
        ready(Ok(()))
    }

    fn exists(&self, key: String) -> Answer<'_, Result<bool, String>> {
        ready(Ok(self.entries().contains_key(&key)))
    }

    fn keys(&self) -> Answer<'_, Result<Vec<String>, String>> {
        ready(Ok(MemoryStore::keys(self)))
    }

    fn increment(&self, key: String, delta: i64) -> Answer<'_, Result<i64, String>> {
        let mut entries = self.entries();
        let current = match entries.get(&key) {
            None => 0,
            Some(bytes) => match std::str::from_utf8(bytes)
                .ok()
                .and_then(|t| t.parse::<i64>().ok())
            {
                Some(number) => number,
                None => return ready(Err(format!("the value under {key:?} is not an integer"))),
            },
        };
        let Some(sum) = current.checked_add(delta) else {
            return ready(Err(format!("incrementing {key:?} overflows")));
        };
        let value = sum.to_string().into_bytes();
        entries.insert(key.clone(), value.clone());
        drop(entries);
        self.written(&key, &value);
        ready(Ok(sum))
    }

    fn swap_if(
        &self,
        key: String,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
    ) -> Answer<'_, Result<bool, String>> {
        let mut entries = self.entries();
        if entries.get(&key) != expected.as_ref() {
            return ready(Ok(false));
        }
        entries.insert(key.clone(), value.clone());
        drop(entries);
        self.written(&key, &value);
        ready(Ok(true))
    }
}
