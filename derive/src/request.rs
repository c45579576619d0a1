//! `#[hail_derive::request]`: what every request type derives and how serde sees it, written
//! once instead of in each endpoint file (the way ruma's `#[request]` does).

use proc_macro2::TokenStream;
use quote::{format_ident, quote};
use syn::{ItemStruct, LitStr};

pub fn request_impl(args: TokenStream, item: TokenStream) -> syn::Result<TokenStream> {
    let mut ts_name: Option<LitStr> = None;
    let parser = syn::meta::parser(|meta| {
        if meta.path.is_ident("ts_name") {
            ts_name = Some(meta.value()?.parse()?);
            Ok(())
        } else {
            Err(meta.error("request(…) takes only ts_name = \"…\""))
        }
    });
    syn::parse::Parser::parse2(parser, args)?;
    let item: ItemStruct = syn::parse2(item)?;
    // An operation (`#[operation(…)]` present) also gets its metadata derived.
    let metadata = item
        .attrs
        .iter()
        .any(|a| a.path().is_ident("operation"))
        .then(|| quote!(, hail_derive::Metadata));
    // Two vendors may name a request alike (`StartConversation`): the TypeScript and OpenAPI
    // names must differ, so `ts_name` renames it in both.
    let (tsify, schema) = match &ts_name {
        Some(name) => {
            let ident = format_ident!("{}", name.value());
            (
                quote!(, tsify(rename = #name)),
                quote!(, schema(as = #ident)),
            )
        }
        None => (quote!(), quote!()),
    };
    Ok(quote! {
        // Every `Option` field may be absent and is left out when `None`, as the vendors want.
        #[serde_with::skip_serializing_none]
        #[derive(serde::Serialize, hail_derive::Read #metadata)]
        #[cfg_attr(feature = "web", derive(tsify::Tsify) #tsify)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema) #schema)]
        // Wire names are camelCase, and a field nobody declared is an error, not ignored.
        #[serde(rename_all = "camelCase", deny_unknown_fields)]
        #item
    })
}
