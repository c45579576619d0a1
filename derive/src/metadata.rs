//! `#[derive(Metadata)]`: an operation's id, whether it sends, its e-mail fields, its
//! TypeScript names, its JS method and summary, and a valid example input, declared once on the
//! request type.

use quote::quote;
use syn::punctuated::Punctuated;
use syn::{DeriveInput, LitBool, LitStr, Meta, Token};

pub fn metadata_impl(input: &DeriveInput) -> syn::Result<proc_macro2::TokenStream> {
    let mut id = None;
    let mut sends = None;
    let mut ts_output = None;
    let mut example = None;
    let mut js = None;
    let mut summary = None;
    let mut replies = false;
    let mut email_fields: Vec<LitStr> = Vec::new();
    let mut calls: Vec<syn::Expr> = Vec::new();
    for attr in input
        .attrs
        .iter()
        .filter(|a| a.path().is_ident("operation"))
    {
        attr.parse_nested_meta(|meta| {
            if meta.path.is_ident("id") {
                let value: LitStr = meta.value()?.parse()?;
                let text = value.value();
                let well_formed = text.split_once('/').is_some_and(|(vendor, name)| {
                    !vendor.is_empty()
                        && !name.is_empty()
                        && text
                            .chars()
                            .all(|c| c.is_ascii_lowercase() || c == '-' || c == '/')
                });
                if !well_formed {
                    return Err(
                        meta.error("an operation id is `vendor/name`, lowercase and dashes")
                    );
                }
                id = Some(value);
            } else if meta.path.is_ident("sends") {
                sends = Some(meta.value()?.parse::<LitBool>()?);
            } else if meta.path.is_ident("example") {
                example = Some(meta.value()?.parse::<LitStr>()?);
            } else if meta.path.is_ident("js") {
                let value: LitStr = meta.value()?.parse()?;
                if !is_js_identifier(&value.value()) {
                    return Err(meta.error("js = … is a JS method name, e.g. `startConversation`"));
                }
                js = Some(value);
            } else if meta.path.is_ident("summary") {
                let value: LitStr = meta.value()?.parse()?;
                // It becomes JSDoc: a `*/` would end the comment early.
                if value.value().contains("*/") || value.value().trim().is_empty() {
                    return Err(
                        meta.error("summary = … is one non-empty sentence or more, without `*/`")
                    );
                }
                summary = Some(value);
            } else if meta.path.is_ident("replies") {
                // A flag: the result opens a vendor conversation whose replies the page streams.
                replies = true;
            } else if meta.path.is_ident("ts_output") {
                ts_output = Some(meta.value()?.parse::<LitStr>()?);
            } else if meta.path.is_ident("calls") {
                let list: syn::ExprArray = meta.value()?.parse()?;
                calls.extend(list.elems);
            } else if meta.path.is_ident("email_fields") {
                let list: syn::ExprArray = meta.value()?.parse()?;
                for item in list.elems {
                    match item {
                        syn::Expr::Lit(syn::ExprLit {
                            lit: syn::Lit::Str(s),
                            ..
                        }) => email_fields.push(s),
                        other => {
                            return Err(syn::Error::new_spanned(other, "a field name as a string"))
                        }
                    }
                }
            } else {
                return Err(meta.error(
                    "operation(…) takes id, sends, ts_output, calls, email_fields, example, summary, js, replies",
                ));
            }
            Ok(())
        })?;
    }
    let missing = |what: &str| {
        syn::Error::new_spanned(&input.ident, format!("#[operation({what} = …)] is missing"))
    };
    let id = id.ok_or_else(|| missing("id"))?;
    let sends = sends.ok_or_else(|| missing("sends"))?;
    let ts_output = ts_output.ok_or_else(|| missing("ts_output"))?;
    let example = example.ok_or_else(|| missing("example"))?;
    let summary = summary.ok_or_else(|| missing("summary"))?;
    if calls.is_empty() {
        return Err(missing("calls"));
    }
    if summary.value().contains("Vendor call") {
        return Err(syn::Error::new_spanned(
            &summary,
            "the summary's \"Vendor call\" text comes from `calls = […]`: leave it out",
        ));
    }
    // The namespace method: `start-conversation` is `startConversation` unless `js` says other.
    let js = js.unwrap_or_else(|| {
        let name = id
            .value()
            .split_once('/')
            .map(|(_, n)| n.to_owned())
            .unwrap_or_default();
        LitStr::new(&camel_case(&name), id.span())
    });
    let vendor = LitStr::new(
        id.value()
            .split_once('/')
            .map(|(v, _)| v)
            .unwrap_or_default(),
        id.span(),
    );
    let ts_input = tsify_name(input)?
        .unwrap_or_else(|| LitStr::new(&input.ident.to_string(), input.ident.span()));
    // The vendor calls are text only at compile time of the `hail` crate (their paths are
    // constants declared beside the endpoint): joined in with `concatcp!`.
    let name = &input.ident;
    let base = quote!(<<#name as crate::operation::Operation>::Vendor as crate::operation::Vendor>::DEFAULT_BASE_URL);
    let label = if calls.len() == 1 {
        "Vendor call: "
    } else {
        "Vendor calls: "
    };
    let mut call_parts = Vec::new();
    for (i, call) in calls.iter().enumerate() {
        let sep = if i == 0 { "`" } else { ", `" };
        call_parts.push(quote!(#sep, #call.method, " ", #base, #call.path, "`"));
    }
    let call_text = quote!(#label, #(#call_parts,)* ".");
    let ts_head = LitStr::new(
        &format!(
            "    /**\n{}     * ",
            jsdoc_lines(&summary.value(), "     * ")
        ),
        id.span(),
    );
    let ts_tail = LitStr::new(
        &format!(
            "\n     *\n     * `call(\"{}\", input, options)`.\n     */\n    \
             {}(input: {}, options?: CallOptions): Promise<",
            id.value(),
            js.value(),
            ts_input.value(),
        ),
        id.span(),
    );
    let vendor_replies = quote!(<<#name as crate::operation::Operation>::Vendor as crate::operation::Vendor>::REPLIES);
    // The result's TypeScript type: with its reply stream (the operation opens a conversation),
    // plain (its vendor has replies, this operation opens none), or saying that its vendor has
    // none at all.
    let ts_result = quote!(::const_format::concatcp!(
        if #replies {
            "ConversationResult<"
        } else if #vendor_replies {
            "CallResult<"
        } else {
            "NoRepliesResult<"
        },
        #ts_output,
        ">"
    ));
    Ok(quote! {
        impl crate::operation::Metadata for #name {
            const ID: &'static str = #id;
            const VENDOR: &'static str = #vendor;
            const JS_METHOD: &'static str = #js;
            const TS_METHOD: &'static str = ::const_format::concatcp!(
                #ts_head,
                #call_text,
                #ts_tail,
                <#name as crate::operation::Metadata>::TS_RESULT,
                ">;\n"
            );
            const TS_RESULT: &'static str = #ts_result;
            const REPLIES: bool = #replies;
            const SUMMARY: &'static str = ::const_format::concatcp!(#summary, " ", #call_text);
            const SENDS: bool = #sends;
            const EMAIL_FIELDS: &'static [&'static str] = &[#(#email_fields),*];
            const TS_INPUT: &'static str = #ts_input;
            const TS_OUTPUT: &'static str = #ts_output;
            const EXAMPLE: &'static str = #example;
        }
        // Only a vendor that delivers replies can have an operation whose result streams them.
        const _: () = assert!(
            !#replies || #vendor_replies,
            "#[operation(replies)] on an operation of a vendor without replies (Vendor::REPLIES)"
        );
    })
}

/// `text` as JSDoc lines of at most 100 columns, each starting with `prefix`.
fn jsdoc_lines(text: &str, prefix: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && prefix.len() + line.len() + 1 + word.len() > 100 {
            out.push_str(prefix);
            out.push_str(&line);
            out.push('\n');
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        out.push_str(prefix);
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// `start-conversation` → `startConversation`.
fn camel_case(dashed: &str) -> String {
    let mut out = String::with_capacity(dashed.len());
    let mut upper = false;
    for c in dashed.chars() {
        if c == '-' {
            upper = true;
        } else if upper {
            out.push(c.to_ascii_uppercase());
            upper = false;
        } else {
            out.push(c);
        }
    }
    out
}

/// Whether `name` can be a JS method name written without quotes (ASCII only, as ours are).
fn is_js_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
}

/// The `rename` of a `tsify(…)` attribute, also inside `cfg_attr(…)`.
fn tsify_name(input: &DeriveInput) -> syn::Result<Option<LitStr>> {
    let mut found = None;
    for attr in &input.attrs {
        let metas: Vec<Meta> = if attr.path().is_ident("tsify") {
            vec![attr.meta.clone()]
        } else if attr.path().is_ident("cfg_attr") {
            attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)?
                .into_iter()
                .skip(1)
                .collect()
        } else {
            continue;
        };
        for meta in metas.iter().filter(|m| m.path().is_ident("tsify")) {
            if let Meta::List(list) = meta {
                list.parse_nested_meta(|inner| {
                    if inner.path.is_ident("rename") {
                        found = Some(inner.value()?.parse::<LitStr>()?);
                    } else if inner.input.peek(Token![=]) {
                        let _: syn::Expr = inner.value()?.parse()?;
                    }
                    Ok(())
                })?;
            }
        }
    }
    Ok(found)
}
