//! Decoding of watch events and list pages, one object at a time.
//!
//! Neither path builds an intermediate `Vec` of objects: a watch line is decoded on its own, and
//! a LIST page is walked with a serde visitor that hands each item to a sink as soon as it is
//! decoded, so the peak is the raw page plus one object (not raw + decoded page + store).

use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;

use serde::Deserialize;
use serde::de::{
    self, DeserializeOwned, DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor,
};
use serde_json::value::RawValue;

/// The annotation on the bookmark that ends a streaming list's initial events.
pub const INITIAL_EVENTS_END: &str = "k8s.io/initial-events-end";

/// A decoded watch event.
#[derive(Debug)]
pub enum WatchEvent<K> {
    Added(K),
    Modified(K),
    Deleted(K),
    Bookmark {
        resource_version: String,
        initial_events_end: bool,
    },
    Error(Status),
}

/// The subset of a `meta/v1` Status that decisions need.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct Status {
    #[serde(default)]
    pub code: u16,
    #[serde(default)]
    pub reason: String,
    #[serde(default)]
    pub message: String,
}

#[derive(Deserialize)]
struct RawEvent<'a> {
    #[serde(rename = "type")]
    ty: &'a str,
    #[serde(borrow)]
    object: &'a RawValue,
}

#[derive(Deserialize)]
struct BookmarkObject {
    metadata: BookmarkMeta,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BookmarkMeta {
    #[serde(default)]
    resource_version: String,
    #[serde(default)]
    annotations: Option<BTreeMap<String, String>>,
}

/// Decode one line of a watch stream.
pub fn decode_event<K: DeserializeOwned>(line: &[u8]) -> Result<WatchEvent<K>, serde_json::Error> {
    let raw: RawEvent<'_> = serde_json::from_slice(line)?;
    let object = raw.object.get();
    Ok(match raw.ty {
        "ADDED" => WatchEvent::Added(serde_json::from_str(object)?),
        "MODIFIED" => WatchEvent::Modified(serde_json::from_str(object)?),
        "DELETED" => WatchEvent::Deleted(serde_json::from_str(object)?),
        "BOOKMARK" => {
            let b: BookmarkObject = serde_json::from_str(object)?;
            let end = b
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(INITIAL_EVENTS_END))
                .is_some_and(|v| v == "true");
            WatchEvent::Bookmark {
                resource_version: b.metadata.resource_version,
                initial_events_end: end,
            }
        }
        "ERROR" => WatchEvent::Error(serde_json::from_str(object)?),
        other => {
            return Err(de::Error::unknown_variant(
                other,
                &["ADDED", "MODIFIED", "DELETED", "BOOKMARK", "ERROR"],
            ));
        }
    })
}

/// The list metadata a paged LIST needs to continue or to start watching.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ListMeta {
    #[serde(default)]
    pub resource_version: String,
    #[serde(default, rename = "continue")]
    pub continue_token: Option<String>,
}

/// Decode a LIST response, passing each item to `sink` as soon as it is decoded.
pub fn decode_list<K, F>(body: &[u8], sink: F) -> Result<ListMeta, serde_json::Error>
where
    K: DeserializeOwned,
    F: FnMut(K),
{
    let mut de = serde_json::Deserializer::from_slice(body);
    let meta = ListSeed {
        sink,
        _k: PhantomData,
    }
    .deserialize(&mut de)?;
    de.end()?;
    Ok(meta)
}

struct ListSeed<K, F> {
    sink: F,
    _k: PhantomData<K>,
}

impl<'de, K: DeserializeOwned, F: FnMut(K)> DeserializeSeed<'de> for ListSeed<K, F> {
    type Value = ListMeta;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<ListMeta, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, K: DeserializeOwned, F: FnMut(K)> Visitor<'de> for ListSeed<K, F> {
    type Value = ListMeta;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a Kubernetes List object")
    }
    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<ListMeta, A::Error> {
        let mut meta = ListMeta::default();
        while let Some(key) = map.next_key::<std::borrow::Cow<'de, str>>()? {
            match key.as_ref() {
                "metadata" => meta = map.next_value()?,
                "items" => map.next_value_seed(ItemsSeed {
                    sink: &mut self.sink,
                    _k: PhantomData,
                })?,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(meta)
    }
}

struct ItemsSeed<'s, K, F> {
    sink: &'s mut F,
    _k: PhantomData<K>,
}

impl<'de, K: DeserializeOwned, F: FnMut(K)> DeserializeSeed<'de> for ItemsSeed<'_, K, F> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de, K: DeserializeOwned, F: FnMut(K)> Visitor<'de> for ItemsSeed<'_, K, F> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of items or null")
    }
    fn visit_unit<E: de::Error>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        while let Some(item) = seq.next_element::<K>()? {
            (self.sink)(item);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::ConfigMap;

    #[test]
    fn list_items_stream_to_sink() {
        let body = br#"{"kind":"ConfigMapList","apiVersion":"v1","metadata":{"resourceVersion":"42","continue":"abc"},
            "items":[{"metadata":{"name":"a","namespace":"n"}},{"metadata":{"name":"b","namespace":"n"}}]}"#;
        let mut names = Vec::new();
        let meta =
            decode_list::<ConfigMap, _>(body, |cm| names.push(cm.metadata.name.unwrap())).unwrap();
        assert_eq!(names, ["a", "b"]);
        assert_eq!(meta.resource_version, "42");
        assert_eq!(meta.continue_token.as_deref(), Some("abc"));
        let meta = decode_list::<ConfigMap, _>(
            br#"{"metadata":{"resourceVersion":"7"},"items":null}"#,
            |_| panic!("no items"),
        )
        .unwrap();
        assert_eq!(meta.resource_version, "7");
    }

    #[test]
    fn events_decode() {
        let end = br#"{"type":"BOOKMARK","object":{"kind":"ConfigMap","apiVersion":"v1","metadata":{"resourceVersion":"9","annotations":{"k8s.io/initial-events-end":"true"}}}}"#;
        assert!(matches!(
            decode_event::<ConfigMap>(end).unwrap(),
            WatchEvent::Bookmark { ref resource_version, initial_events_end: true } if resource_version == "9"
        ));
        let plain = br#"{"type":"BOOKMARK","object":{"metadata":{"resourceVersion":"10"}}}"#;
        assert!(matches!(
            decode_event::<ConfigMap>(plain).unwrap(),
            WatchEvent::Bookmark {
                initial_events_end: false,
                ..
            }
        ));
        let gone = br#"{"type":"ERROR","object":{"kind":"Status","code":410,"reason":"Expired","message":"too old resource version"}}"#;
        assert!(matches!(
            decode_event::<ConfigMap>(gone).unwrap(),
            WatchEvent::Error(Status { code: 410, .. })
        ));
        let added = br#"{"type":"ADDED","object":{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"x"}}}"#;
        assert!(matches!(
            decode_event::<ConfigMap>(added).unwrap(),
            WatchEvent::Added(_)
        ));
        assert!(decode_event::<ConfigMap>(br#"{"type":"WHAT","object":{}}"#).is_err());
        assert!(decode_event::<ConfigMap>(b"not json").is_err());
    }
}
