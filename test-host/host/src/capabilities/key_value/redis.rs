//! Key-value stores as the keys of a Redis database, each under a prefix of its own.
//!
//! The prefix is the store's label and a colon (`cache:`) unless the runtime config sets
//! `prefix`: two stores on one database never see each other's keys, and listing walks only
//! the store's own with `SCAN`, never `KEYS *`, which blocks the server while it runs.
//! `prefix = ""` keeps keys as they are, as Spin stores them, shared with every other user
//! of the database.

use futures_util::future::BoxFuture;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;

use super::store::Store;

/// A store on a Redis server, over one multiplexed connection shared by every request and
/// made on first use.
pub struct RedisStore {
    client: redis::Client,
    connection: tokio::sync::OnceCell<ConnectionManager>,
    prefix: String,
}

/// How many keys one `SCAN` step asks for.
const SCAN_BATCH: usize = 1000;

impl RedisStore {
    /// The store on the Redis server at `url`, its keys under `prefix`.
    pub fn new(url: &str, prefix: &str) -> anyhow::Result<RedisStore> {
        Ok(RedisStore {
            client: redis::Client::open(url)?,
            connection: tokio::sync::OnceCell::new(),
            prefix: prefix.to_owned(),
        })
    }

    /// The key on the server of the store's `key`.
    fn key(&self, key: String) -> String {
        if self.prefix.is_empty() {
            key
        } else {
            format!("{}{key}", self.prefix)
        }
    }

    /// A `SCAN` pattern for every key under the prefix: the prefix with glob characters
    /// escaped, then `*`.
    fn pattern(&self) -> String {
        let mut pattern = String::with_capacity(self.prefix.len() + 1);
        for c in self.prefix.chars() {
            if matches!(c, '*' | '?' | '[' | ']' | '\\') {
                pattern.push('\\');
            }
            pattern.push(c);
        }
        pattern.push('*');
        pattern
    }

    async fn connection(&self) -> Result<ConnectionManager, String> {
        self.connection
            .get_or_try_init(|| {
                ConnectionManager::new_with_config(
                    self.client.clone(),
                    crate::capabilities::redis::connection_config(),
                )
            })
            .await
            .cloned()
            .map_err(|e| format!("connecting to Redis: {e}"))
    }
}

fn redis_error(error: redis::RedisError) -> String {
    format!("Redis: {error}")
}

impl Store for RedisStore {
    fn get(&self, key: String) -> BoxFuture<'_, Result<Option<Vec<u8>>, String>> {
        Box::pin(async move {
            self.connection()
                .await?
                .get(self.key(key))
                .await
                .map_err(redis_error)
        })
    }

    fn set(&self, key: String, value: Vec<u8>) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            self.connection()
                .await?
                .set(self.key(key), value)
                .await
                .map_err(redis_error)
        })
    }

    fn delete(&self, key: String) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            self.connection()
                .await?
                .del(self.key(key))
                .await
                .map_err(redis_error)
        })
    }

    fn exists(&self, key: String) -> BoxFuture<'_, Result<bool, String>> {
        Box::pin(async move {
            self.connection()
                .await?
                .exists(self.key(key))
                .await
                .map_err(redis_error)
        })
    }

    fn keys(&self) -> BoxFuture<'_, Result<Vec<String>, String>> {
        Box::pin(async move {
            let mut connection = self.connection().await?;
            let pattern = self.pattern();
            let mut keys = Vec::new();
            let mut cursor: u64 = 0;
            loop {
                let (next, batch): (u64, Vec<String>) = redis::cmd("SCAN")
                    .arg(cursor)
                    .arg("MATCH")
                    .arg(&pattern)
                    .arg("COUNT")
                    .arg(SCAN_BATCH)
                    .query_async(&mut connection)
                    .await
                    .map_err(redis_error)?;
                keys.extend(
                    batch
                        .into_iter()
                        .filter_map(|key| key.strip_prefix(&self.prefix).map(str::to_owned)),
                );
                if next == 0 {
                    break;
                }
                cursor = next;
            }
            // SCAN may return a key twice when the keyspace grows while it walks.
            keys.sort();
            keys.dedup();
            Ok(keys)
        })
    }

    fn increment(&self, key: String, delta: i64) -> BoxFuture<'_, Result<i64, String>> {
        Box::pin(async move {
            self.connection()
                .await?
                .incr(self.key(key), delta)
                .await
                .map_err(redis_error)
        })
    }

    fn swap_if(
        &self,
        key: String,
        expected: Option<Vec<u8>>,
        value: Vec<u8>,
    ) -> BoxFuture<'_, Result<bool, String>> {
        Box::pin(async move {
            let mut connection = self.connection().await?;
            let has_expected = if expected.is_some() { "1" } else { "0" };
            let written: i64 = redis::cmd("EVAL")
                .arg(SWAP_IF)
                .arg(1)
                .arg(self.key(key))
                .arg(has_expected)
                .arg(expected.unwrap_or_default())
                .arg(value)
                .query_async(&mut connection)
                .await
                .map_err(redis_error)?;
            Ok(written == 1)
        })
    }
}

/// Compare-and-swap in one step on the server: sets KEYS[1] to ARGV[3] if it holds ARGV[2]
/// (when ARGV[1] is "1") or does not exist (when it is "0").
const SWAP_IF: &str = r#"
local current = redis.call('GET', KEYS[1])
local matches
if ARGV[1] == '1' then matches = (current == ARGV[2]) else matches = (current == false) end
if matches then
  redis.call('SET', KEYS[1], ARGV[3])
  return 1
end
return 0
"#;

#[cfg(test)]
mod tests {
    use super::RedisStore;

    #[test]
    fn a_prefix_with_glob_characters_matches_only_itself() {
        let store = RedisStore::new("redis://127.0.0.1", "a*[b]?\\:").unwrap();
        assert_eq!(store.pattern(), "a\\*\\[b\\]\\?\\\\:*");
        assert_eq!(store.key("k".into()), "a*[b]?\\:k");
        let bare = RedisStore::new("redis://127.0.0.1", "").unwrap();
        assert_eq!(bare.pattern(), "*");
        assert_eq!(bare.key("k".into()), "k");
    }
}
