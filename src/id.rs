//! A vendor id as JS sees it: a number while exact (at most 2^53−1), else its decimal string.

use serde::{Deserialize, Serialize};

/// A vendor id passed on to JS: a number while it is exact in JS (≤ 2^53−1), else a string.
/// Reads either form.
// `Default` (0, never a valid id) only so that request readers can start from a blank value.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Id(pub u64);

#[cfg(all(feature = "web", target_arch = "wasm32"))]
#[wasm_bindgen::prelude::wasm_bindgen(typescript_custom_section)]
const TS_ID: &'static str = r#"
/**
 * A vendor id: a number while exact in JavaScript (at most 2^53-1), else its decimal string.
 * Inputs take an id in either form, so an id a result gave can be passed on as it is.
 */
export type Id = number | string;
/** JSON as it came from a vendor (for answers whose shape the vendor does not document). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };
"#;

impl Serialize for Id {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if self.0 <= crate::validate::ID_MAX {
            s.serialize_u64(self.0)
        } else {
            // Not `collect_str`: that links the formatting machinery into the browser SDK,
            // whose requests carry ids.
            let mut text = String::new();
            crate::encode::push_decimal(&mut text, self.0);
            s.serialize_str(&text)
        }
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Either {
            Number(u64),
            Text(String),
        }
        match Either::deserialize(d)? {
            Either::Number(n) => Ok(Id(n)),
            Either::Text(t) => t.parse().map(Id).map_err(serde::de::Error::custom),
        }
    }
}

#[cfg(feature = "openapi")]
mod schema {
    use utoipa::openapi::schema::{ObjectBuilder, OneOfBuilder, Schema, SchemaType, Type};
    use utoipa::openapi::RefOr;

    impl utoipa::PartialSchema for super::Id {
        fn schema() -> RefOr<Schema> {
            OneOfBuilder::new()
                .item(ObjectBuilder::new().schema_type(SchemaType::new(Type::Integer)).minimum(Some(0)))
                .item(ObjectBuilder::new().schema_type(SchemaType::new(Type::String)).pattern(Some("^[0-9]+$")))
                .description(Some("A vendor id: a number while exact in JavaScript (at most 2^53-1), else its decimal string"))
                .into()
        }
    }

    impl utoipa::ToSchema for super::Id {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_numbers_while_exact_in_js() {
        assert_eq!(
            serde_json::to_string(&Id(17_623_000_010_928)).unwrap(),
            "17623000010928"
        );
        assert_eq!(
            serde_json::to_string(&Id(1 << 53)).unwrap(),
            "\"9007199254740992\""
        );
        assert_eq!(
            serde_json::from_str::<Id>("\"9007199254740992\"").unwrap(),
            Id(1 << 53)
        );
        assert_eq!(serde_json::from_str::<Id>("40").unwrap(), Id(40));
        assert!(serde_json::from_str::<Id>("-1").is_err());
    }
}
