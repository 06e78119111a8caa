//! Key-value stores as the keys of a Redis database.

use futures_util::future::BoxFuture;
use redis::aio::ConnectionManager;
use redis::AsyncCommands;

use super::store::Store;

/// A store on a Redis server, over one multiplexed connection shared by every request and
/// made on first use.
pub struct RedisStore {
    client: redis::Client,
    connection: tokio::sync::OnceCell<ConnectionManager>,
}

impl RedisStore {
    /// The store on the Redis server at `url`.
    pub fn new(url: &str) -> anyhow::Result<RedisStore> {
        Ok(RedisStore {
            client: redis::Client::open(url)?,
            connection: tokio::sync::OnceCell::new(),
        })
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
        Box::pin(async move { self.connection().await?.get(key).await.map_err(redis_error) })
    }

    fn set(&self, key: String, value: Vec<u8>) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move {
            self.connection()
                .await?
                .set(key, value)
                .await
                .map_err(redis_error)
        })
    }

    fn delete(&self, key: String) -> BoxFuture<'_, Result<(), String>> {
        Box::pin(async move { self.connection().await?.del(key).await.map_err(redis_error) })
    }

    fn exists(&self, key: String) -> BoxFuture<'_, Result<bool, String>> {
        Box::pin(async move {
            self.connection()
                .await?
                .exists(key)
                .await
                .map_err(redis_error)
        })
    }

    fn keys(&self) -> BoxFuture<'_, Result<Vec<String>, String>> {
        Box::pin(async move {
            let mut keys: Vec<String> = self
                .connection()
                .await?
                .keys("*")
                .await
                .map_err(redis_error)?;
            keys.sort();
            Ok(keys)
        })
    }

    fn increment(&self, key: String, delta: i64) -> BoxFuture<'_, Result<i64, String>> {
        Box::pin(async move {
            self.connection()
                .await?
                .incr(key, delta)
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
                .arg(key)
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
