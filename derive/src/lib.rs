//! The derives of the `hail` crate's request types, so that each endpoint is declared once, in
//! its own file:
//!
//! - `#[derive(Read)]`: the `hail::read::Read` impl of a struct, from the serde attributes it
//!   already has, so that each wire name is spelled once;
//! - `#[derive(Metadata)]` with `#[operation(…)]`: what the relay and the SDK know of an
//!   operation without running it (below).
//!
//! `Read`:
//! Understood: `#[serde(rename_all = "camelCase" | "PascalCase")]` on the struct;
//! `#[serde(rename = "…")]`, `#[serde(default)]` (absent is fine, the field keeps its
//! `Default`; implied for an `Option<…>` field, as serde implies it) and `#[serde(skip)]` (not
//! read; `Default`) on fields. Every other serde option is
//! ignored here (serialising only, or checked by `Read` itself, like unknown fields). A rename
//! rule or attribute this derive does not know is a compile error, never a silently different
//! wire name.

use proc_macro::TokenStream;
use quote::quote;
use syn::{parse_macro_input, Data, DeriveInput, Fields, LitStr};

mod metadata;
mod request;

/// On a request type: derives `Serialize`, `Read`, tsify's `Tsify` (feature `web`) and utoipa's
/// `ToSchema` (feature `openapi`), and `Metadata` when it has `#[operation(…)]`; wire names in
/// camelCase, unknown fields refused, `Option` fields optional. `ts_name = "…"` renames the
/// type in TypeScript and OpenAPI.
#[proc_macro_attribute]
pub fn request(args: TokenStream, item: TokenStream) -> TokenStream {
    match request::request_impl(args.into(), item.into()) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// Derives `crate::operation::Metadata` from `#[operation(id = "vendor/name", sends = bool,
/// ts_output = "Type", summary = "…", example = r#"{…}"#)]`, optionally with
/// `email_fields = ["field", …]`, `js = "methodName"` and `replies` (the result opens a vendor
/// conversation and carries its reply stream); the TypeScript input name is the one
/// tsify gives the type (`ts_name` of `#[hail_derive::request]`, else the type's name).
#[proc_macro_derive(Metadata, attributes(operation))]
pub fn derive_metadata(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match metadata::metadata_impl(&input) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// Derives `crate::read::Read` (usable inside the `hail` crate only).
#[proc_macro_derive(Read)]
pub fn derive_read(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    match read_impl(&input) {
        Ok(tokens) => tokens.into(),
        Err(e) => e.to_compile_error().into(),
    }
}

/// How serde turns a Rust field name into a wire name.
#[derive(Clone, Copy)]
enum Rule {
    Keep,
    Camel,
    Pascal,
}

impl Rule {
    fn apply(self, field: &str) -> String {
        let mut out = String::with_capacity(field.len());
        let mut upper = matches!(self, Rule::Pascal);
        for c in field.chars() {
            match (self, c) {
                (Rule::Keep, _) => out.push(c),
                (_, '_') => upper = true,
                _ if upper => {
                    out.extend(c.to_uppercase());
                    upper = false;
                }
                _ => out.push(c),
            }
        }
        out
    }
}

/// What the serde attributes of one field say.
#[derive(Default)]
struct FieldAttrs {
    rename: Option<String>,
    default: bool,
    skip: bool,
}

fn read_impl(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let Data::Struct(data) = &input.data else {
        return Err(syn::Error::new_spanned(
            input,
            "Read is derived for structs only",
        ));
    };
    let rule = container_rule(input)?;
    let name = &input.ident;
    let (mut wire, mut read, mut defaults, mut skipped) = (vec![], vec![], vec![], vec![]);
    let named = match &data.fields {
        Fields::Named(named) => named.named.iter().collect(),
        Fields::Unit => Vec::new(),
        Fields::Unnamed(_) => {
            return Err(syn::Error::new_spanned(input, "Read needs named fields"));
        }
    };
    for field in named {
        let Some(ident) = &field.ident else { continue };
        let attrs = field_attrs(field)?;
        if attrs.skip {
            skipped.push(ident);
            continue;
        }
        let rust = ident.to_string();
        let rust = rust.strip_prefix("r#").unwrap_or(&rust);
        wire.push(attrs.rename.unwrap_or_else(|| rule.apply(rust)));
        read.push(ident);
        defaults.push(attrs.default || is_option(&field.ty));
    }
    let index = 0..read.len();
    Ok(quote! {
        impl crate::read::Read for #name {
            const FIELDS: &'static [&'static str] = &[#(#wire),*];

            fn read<S: crate::read::Source>(
                value: &S,
                path: &mut crate::read::Path,
            ) -> Result<Self, crate::Violation> {
                #[allow(unused_mut, unused_variables)]
                let mut fields = crate::read::Fields::new(value, path, Self::FIELDS)?;
                #[allow(unused_mut)]
                let mut out = Self {
                    #(#read: Default::default(),)*
                    #(#skipped: Default::default(),)*
                };
                #(fields.take(#index, &mut out.#read, #defaults);)*
                Ok(out)
            }
        }
    })
}

/// The struct's `rename_all`.
fn container_rule(input: &DeriveInput) -> syn::Result<Rule> {
    let mut rule = Rule::Keep;
    for attr in input.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename_all") {
                let value: LitStr = meta.value()?.parse()?;
                rule = match value.value().as_str() {
                    "camelCase" => Rule::Camel,
                    "PascalCase" => Rule::Pascal,
                    other => {
                        return Err(meta.error(format!("Read does not know rename_all = {other:?}")))
                    }
                };
            } else if meta.input.peek(syn::Token![=]) {
                // Another `key = value` option: consume its value.
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        })?;
    }
    Ok(rule)
}

/// Whether `ty` is written `Option<…>` (serde's own test: a missing `Option` field is `None`).
fn is_option(ty: &syn::Type) -> bool {
    matches!(ty, syn::Type::Path(p) if p.qself.is_none()
        && p.path.segments.last().is_some_and(|s| s.ident == "Option"))
}

/// One field's `rename`, `default` and `skip`.
fn field_attrs(field: &syn::Field) -> syn::Result<FieldAttrs> {
    let mut out = FieldAttrs::default();
    for attr in field.attrs.iter().filter(|a| a.path().is_ident("serde")) {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("rename") {
                out.rename = Some(meta.value()?.parse::<LitStr>()?.value());
            } else if meta.path.is_ident("default") {
                if meta.input.peek(syn::Token![=]) {
                    return Err(meta.error("Read knows only a plain #[serde(default)]"));
                }
                out.default = true;
            } else if meta.path.is_ident("skip") {
                out.skip = true;
            } else if meta.input.peek(syn::Token![=]) {
                // alias, skip_serializing_if, deserialize_with, …: not about reading names.
                let _: syn::Expr = meta.value()?.parse()?;
            }
            Ok(())
        })?;
    }
    Ok(out)
}
