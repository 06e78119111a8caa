//! The `wasi:keyvalue` draft Spin 3 links (`store`, `atomics`, `batch` at
//! `0.2.0-draft2`), over the same stores and grants as Spin 2's interface: a bucket is a store
//! the component is granted, by label.
//!
//! As in Spin, `list-keys` answers every key in one page and refuses a cursor; a counter is
//! stored as Spin stores it (8 little-endian bytes in SQLite, a decimal string in Redis).

use std::sync::Arc;

use wasmtime::component::Resource;

use super::bindings::wasi::keyvalue::{atomics, batch, store};
use super::store::Store;
use super::{KeyValueGrant, OpenStore};
use crate::capabilities::capability::View;
use store::{Error, KeyResponse};

/// A value read for a compare-and-swap: the handle behind the `cas` resource.
pub struct Cas {
    store: Arc<dyn Store>,
    key: String,
    read: Option<Vec<u8>>,
}

impl View<'_, KeyValueGrant> {
    fn bucket(&self, bucket: &Resource<OpenStore>) -> Result<Arc<dyn Store>, Error> {
        self.table
            .get(bucket)
            .map(|open| open.store.clone())
            .map_err(|e| Error::Other(format!("invalid bucket handle: {e}")))
    }
}

impl store::Host for View<'_, KeyValueGrant> {
    async fn open(&mut self, identifier: String) -> Result<Resource<OpenStore>, Error> {
        let Some(store) = self.grant.stores.get(&identifier) else {
            return Err(Error::AccessDenied);
        };
        let store = store.clone();
        self.table
            .push(OpenStore { store })
            .map_err(|e| Error::Other(format!("too many open buckets: {e}")))
    }
}

impl store::HostBucket for View<'_, KeyValueGrant> {
    async fn get(
        &mut self,
        bucket: Resource<OpenStore>,
        key: String,
    ) -> Result<Option<Vec<u8>>, Error> {
        self.bucket(&bucket)?.get(key).await.map_err(Error::Other)
    }

    async fn set(
        &mut self,
        bucket: Resource<OpenStore>,
        key: String,
        value: Vec<u8>,
    ) -> Result<(), Error> {
        self.bucket(&bucket)?
            .set(key, value)
            .await
            .map_err(Error::Other)
    }

    async fn delete(&mut self, bucket: Resource<OpenStore>, key: String) -> Result<(), Error> {
        self.bucket(&bucket)?
            .delete(key)
            .await
            .map_err(Error::Other)
    }

    async fn exists(&mut self, bucket: Resource<OpenStore>, key: String) -> Result<bool, Error> {
        self.bucket(&bucket)?
            .exists(key)
            .await
            .map_err(Error::Other)
    }

    async fn list_keys(
        &mut self,
        bucket: Resource<OpenStore>,
        cursor: Option<String>,
    ) -> Result<KeyResponse, Error> {
        if cursor.is_some() {
            return Err(Error::Other(
                "list-keys answers every key in one page; there is no next page to ask for".into(),
            ));
        }
        let keys = self.bucket(&bucket)?.keys().await.map_err(Error::Other)?;
        Ok(KeyResponse { keys, cursor: None })
    }

    async fn drop(&mut self, bucket: Resource<OpenStore>) -> wasmtime::Result<()> {
        self.table.delete(bucket)?;
        Ok(())
    }
}

impl atomics::Host for View<'_, KeyValueGrant> {
    async fn increment(
        &mut self,
        bucket: Resource<OpenStore>,
        key: String,
        delta: i64,
    ) -> Result<i64, Error> {
        self.bucket(&bucket)?
            .increment(key, delta)
            .await
            .map_err(Error::Other)
    }

    async fn swap(&mut self, cas: Resource<Cas>, value: Vec<u8>) -> Result<(), atomics::CasError> {
        let read = self
            .table
            .get(&cas)
            .map(|cas| (cas.store.clone(), cas.key.clone(), cas.read.clone()))
            .map_err(|e| {
                atomics::CasError::StoreError(Error::Other(format!("invalid cas handle: {e}")))
            })?;
        let (store, key, expected) = read;
        let written = store
            .swap_if(key, expected, value)
            .await
            .map_err(|e| atomics::CasError::StoreError(Error::Other(e)))?;
        if written {
            // The handle is the guest's to drop; a swap that wrote has used it up.
            let _ = self.table.delete(cas);
            Ok(())
        } else {
            Err(atomics::CasError::CasFailed(cas))
        }
    }
}

impl atomics::HostCas for View<'_, KeyValueGrant> {
    async fn new(
        &mut self,
        bucket: Resource<OpenStore>,
        key: String,
    ) -> Result<Resource<Cas>, Error> {
        let store = self.bucket(&bucket)?;
        let read = store.get(key.clone()).await.map_err(Error::Other)?;
        self.table
            .push(Cas { store, key, read })
            .map_err(|e| Error::Other(format!("too many open cas handles: {e}")))
    }

    async fn current(&mut self, cas: Resource<Cas>) -> Result<Option<Vec<u8>>, Error> {
        self.table
            .get(&cas)
            .map(|cas| cas.read.clone())
            .map_err(|e| Error::Other(format!("invalid cas handle: {e}")))
    }

    async fn drop(&mut self, cas: Resource<Cas>) -> wasmtime::Result<()> {
        self.table.delete(cas)?;
        Ok(())
    }
}

impl batch::Host for View<'_, KeyValueGrant> {
    async fn get_many(
        &mut self,
        bucket: Resource<OpenStore>,
        keys: Vec<String>,
    ) -> Result<Vec<(String, Option<Vec<u8>>)>, Error> {
        let store = self.bucket(&bucket)?;
        let mut found = Vec::with_capacity(keys.len());
        for key in keys {
            let value = store.get(key.clone()).await.map_err(Error::Other)?;
            found.push((key, value));
        }
        Ok(found)
    }

    async fn set_many(
        &mut self,
        bucket: Resource<OpenStore>,
        key_values: Vec<(String, Vec<u8>)>,
    ) -> Result<(), Error> {
        let store = self.bucket(&bucket)?;
        for (key, value) in key_values {
            store.set(key, value).await.map_err(Error::Other)?;
        }
        Ok(())
    }

    async fn delete_many(
        &mut self,
        bucket: Resource<OpenStore>,
        keys: Vec<String>,
    ) -> Result<(), Error> {
        let store = self.bucket(&bucket)?;
        for key in keys {
            store.delete(key).await.map_err(Error::Other)?;
        }
        Ok(())
    }
}
