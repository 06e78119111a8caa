//! Attributes that turn a plain Rust function into a component's exported handler.
//! Use them through `rotor-sdk`, which re-exports them.
#![forbid(unsafe_code)]
#![warn(missing_docs)]

use proc_macro::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{FnArg, ItemFn, ReturnType};

/// Exports a function as the component's `wasi:http/incoming-handler@0.2.0`.
///
/// The function may be `fn` or `async fn`. Its arguments are extractors: any number of types
/// that implement `rotor_sdk::http::FromRequestParts` (`Query<T>`, `HeaderMap`, `Method`, ...),
/// then at most one that implements `rotor_sdk::http::FromRequest` and reads the body
/// (`Json<T>`, `String`, `Request<IncomingBody>`, ...). It returns any type that implements
/// `rotor_sdk::http::IntoResponse`. A component has exactly one such function.
///
/// ```ignore
/// #[rotor_sdk::http_component]
/// fn hello(_request: rotor_sdk::http::Request<rotor_sdk::http::IncomingBody>) -> &'static str {
///     "Hello from Rotor!\n"
/// }
/// ```
#[proc_macro_attribute]
pub fn http_component(attr: TokenStream, item: TokenStream) -> TokenStream {
    match expand_http_component(attr.into(), item) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

fn expand_http_component(
    attr: proc_macro2::TokenStream,
    item: TokenStream,
) -> syn::Result<proc_macro2::TokenStream> {
    if !attr.is_empty() {
        return Err(syn::Error::new(
            attr.span(),
            "#[http_component] takes no arguments",
        ));
    }
    let function: ItemFn = syn::parse(item).map_err(|e| {
        syn::Error::new(e.span(), "#[http_component] goes on a function: `fn handle(request: Request<IncomingBody>) -> impl IntoResponse`")
    })?;
    check_signature(&function, "http_component")?;

    let name = &function.sig.ident;
    let call_await = function.sig.asyncness.map(|_| quote!(.await));
    let mut types = Vec::new();
    for input in &function.sig.inputs {
        match input {
            FnArg::Typed(arg) => types.push(&arg.ty),
            FnArg::Receiver(receiver) => {
                return Err(syn::Error::new(
                    receiver.span(),
                    "#[http_component] handlers are free functions, not methods",
                ))
            }
        }
    }
    // All arguments but the last read the request's parts; the last may read the body too.
    // Each extraction is spanned to its argument's type, so an argument that is not an
    // extractor (or a body extractor that is not last) is reported where it is written.
    let arguments: Vec<proc_macro2::Ident> = (0..types.len())
        .map(|i| quote::format_ident!("argument_{i}"))
        .collect();
    // The extractions, and what they read of the request together, so that `serve`
    // converts only that.
    let (extract, reads) = match types.split_last() {
        None => (
            quote!(drop(request);),
            quote!(::rotor_sdk::http::Reads::PATH_AND_QUERY),
        ),
        Some((last, parts)) => {
            let part_arguments = &arguments[..parts.len()];
            let last_argument = &arguments[parts.len()];
            let part_extractions = parts.iter().zip(part_arguments).map(|(ty, argument)| {
                quote_spanned! {ty.span()=>
                    let #argument = match <#ty as ::rotor_sdk::http::FromRequestParts>::from_request_parts(&mut parts).await {
                        ::core::result::Result::Ok(value) => value,
                        ::core::result::Result::Err(rejection) => {
                            return ::rotor_sdk::http::IntoResponse::into_reply(rejection);
                        }
                    };
                }
            });
            let last_extraction = quote_spanned! {last.span()=>
                let #last_argument = match <#last as ::rotor_sdk::http::FromRequest<_>>::from_request(request).await {
                    ::core::result::Result::Ok(value) => value,
                    ::core::result::Result::Err(rejection) => {
                        return ::rotor_sdk::http::IntoResponse::into_reply(rejection);
                    }
                };
            };
            let part_reads = parts.iter().map(|ty| {
                quote_spanned! {ty.span()=>
                    .and(<#ty as ::rotor_sdk::http::FromRequestParts>::READS)
                }
            });
            let extract = quote! {
                #[allow(unused_mut)]
                let (mut parts, body) = request.into_parts();
                #(#part_extractions)*
                let request = ::rotor_sdk::http::Request::from_parts(parts, body);
                #last_extraction
            };
            let reads = quote_spanned! {last.span()=>
                ::rotor_sdk::http::Reads::PATH_AND_QUERY
                    #(#part_reads)*
                    .and(<#last as ::rotor_sdk::http::FromRequest<_>>::READS)
            };
            (extract, reads)
        }
    };
    let call = quote!(#name(#(#arguments),*)#call_await);
    let output_span = match &function.sig.output {
        ReturnType::Default => function.sig.ident.span(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    let respond = quote_spanned! {output_span=>
        ::rotor_sdk::http::IntoResponse::into_reply(output)
    };

    Ok(quote! {
        #function

        const _: () = {
            struct RotorHttpComponent;

            impl ::rotor_sdk::__private::HandlerReads for RotorHttpComponent {
                const READS: ::rotor_sdk::http::Reads = #reads;
            }

            impl ::rotor_sdk::__private::IncomingHandler for RotorHttpComponent {
                fn handle(
                    request: ::rotor_sdk::__private::IncomingRequest,
                    response_out: ::rotor_sdk::__private::ResponseOutparam,
                ) {
                    ::rotor_sdk::http::serve::<RotorHttpComponent, _, _>(request, response_out, |request| async move {
                        #extract
                        let output = #call;
                        #respond
                    });
                }
            }

            ::rotor_sdk::__private::export_http_trigger!(
                RotorHttpComponent with_types_in ::rotor_sdk::__private::http_trigger
            );
        };
    })
}

/// Exports a function as the component's `fermyon:spin/inbound-redis` handler, which Spin's
/// Redis trigger calls once per message on the subscribed channel.
///
/// The function may be `fn` or `async fn` and takes exactly one argument, the message, of
/// any type that implements `rotor_sdk::inbound_redis::FromPayload` (`Vec<u8>`, `Bytes`,
/// `String`, and a CloudEvent with the `cloudevents` feature). It returns `()` or a
/// `Result<(), E>` whose error is displayed: an `Err` is logged to stderr and reported to the
/// host as a failed message.
///
/// With the `cloudevents` feature and a `cloudevents::Event` argument, a filter in the
/// CloudEvents Subscriptions API's JSON form runs before the handler, and a message it
/// rejects is acknowledged and skipped: `#[redis_component(filter = r#"{"exact": {"type":
/// "order.created"}}"#)]`, or `#[redis_component(filter_variable = "event_filter")]` to read
/// it from a component variable on each message.
///
/// ```ignore
/// #[rotor_sdk::redis_component]
/// fn on_message(payload: Vec<u8>) -> anyhow::Result<()> {
///     println!("received {} bytes", payload.len());
///     Ok(())
/// }
/// ```
#[proc_macro_attribute]
pub fn redis_component(attr: TokenStream, item: TokenStream) -> TokenStream {
    match expand_redis_component(attr.into(), item) {
        Ok(tokens) => tokens.into(),
        Err(error) => error.to_compile_error().into(),
    }
}

fn expand_redis_component(
    attr: proc_macro2::TokenStream,
    item: TokenStream,
) -> syn::Result<proc_macro2::TokenStream> {
    let filter = parse_filter_arguments(attr)?;
    let function: ItemFn = syn::parse(item).map_err(|e| {
        syn::Error::new(
            e.span(),
            "#[redis_component] goes on a function: `fn on_message(payload: Vec<u8>) -> anyhow::Result<()>`",
        )
    })?;
    check_signature(&function, "redis_component")?;
    let inputs: Vec<&FnArg> = function.sig.inputs.iter().collect();
    let argument = match inputs.as_slice() {
        [FnArg::Typed(arg)] => arg,
        [FnArg::Receiver(receiver)] => {
            return Err(syn::Error::new(
                receiver.span(),
                "#[redis_component] handlers are free functions, not methods",
            ))
        }
        [] => {
            return Err(syn::Error::new(
                function.sig.paren_token.span.join(),
                "#[redis_component] handlers take the message: `payload: Vec<u8>` (or `Bytes`, `String`)",
            ))
        }
        [_, extra, ..] => {
            return Err(syn::Error::new(
                extra.span(),
                "#[redis_component] handlers take exactly one argument, the message",
            ))
        }
    };
    let name = &function.sig.ident;
    let ty = &argument.ty;
    let call_await = function.sig.asyncness.map(|_| quote!(.await));
    let convert = quote_spanned! {ty.span()=>
        <#ty as ::rotor_sdk::inbound_redis::FromPayload>::from_payload(message)
    };
    let output_span = match &function.sig.output {
        ReturnType::Default => function.sig.ident.span(),
        ReturnType::Type(_, ty) => ty.span(),
    };
    let outcome = quote_spanned! {output_span=>
        ::rotor_sdk::inbound_redis::HandlerOutcome::into_outcome(output)
    };

    Ok(quote! {
        #function

        const _: () = {
            struct RotorRedisComponent;

            impl ::rotor_sdk::__private::InboundRedis for RotorRedisComponent {
                fn handle_message(
                    message: ::std::vec::Vec<u8>,
                ) -> ::core::result::Result<(), ::rotor_sdk::__private::RedisTriggerError> {
                    ::rotor_sdk::inbound_redis::run(async move {
                        let argument = match #convert {
                            ::core::result::Result::Ok(argument) => argument,
                            ::core::result::Result::Err(skip) => return ::core::result::Result::Err(skip),
                        };
                        #filter
                        let output = #name(argument)#call_await;
                        #outcome
                    })
                }
            }

            ::rotor_sdk::__private::export_redis_trigger!(
                RotorRedisComponent with_types_in ::rotor_sdk::__private::redis_trigger
            );
        };
    })
}

/// Reads `filter = "JSON"` or `filter_variable = "name"` into the code that skips a message
/// the filter rejects.
fn parse_filter_arguments(attr: proc_macro2::TokenStream) -> syn::Result<proc_macro2::TokenStream> {
    if attr.is_empty() {
        return Ok(quote!());
    }
    let arguments = syn::parse::Parser::parse2(
        syn::punctuated::Punctuated::<syn::MetaNameValue, syn::Token![,]>::parse_terminated,
        attr.clone(),
    )
    .map_err(|e| {
        syn::Error::new(
            e.span(),
            "#[redis_component] takes `filter = \"JSON\"` or `filter_variable = \"NAME\"`",
        )
    })?;
    let mut source = None;
    for argument in &arguments {
        let syn::Expr::Lit(syn::ExprLit {
            lit: syn::Lit::Str(text),
            ..
        }) = &argument.value
        else {
            return Err(syn::Error::new(argument.value.span(), "expected a string"));
        };
        let kind = if argument.path.is_ident("filter") {
            quote!(Json)
        } else if argument.path.is_ident("filter_variable") {
            quote!(Variable)
        } else {
            return Err(syn::Error::new(
                argument.path.span(),
                "unknown argument; #[redis_component] takes `filter` or `filter_variable`",
            ));
        };
        if source.is_some() {
            return Err(syn::Error::new(argument.span(), "give one filter"));
        }
        source = Some(quote_spanned! {argument.span()=>
            ::rotor_sdk::cloudevents::FilterSource::#kind(#text)
        });
    }
    Ok(quote! {
        match ::rotor_sdk::cloudevents::passes_filter(&argument, #source) {
            ::core::result::Result::Ok(true) => {}
            ::core::result::Result::Ok(false) => return ::core::result::Result::Ok(()),
            ::core::result::Result::Err(reason) => return ::core::result::Result::Err(reason),
        }
    })
}

fn check_signature(function: &ItemFn, attribute: &str) -> syn::Result<()> {
    let sig = &function.sig;
    if !sig.generics.params.is_empty() || sig.generics.where_clause.is_some() {
        let span = match sig.generics.params.first() {
            Some(param) => param.span(),
            None => sig.generics.span(),
        };
        return Err(syn::Error::new(
            span,
            format!("#[{attribute}] handlers cannot be generic"),
        ));
    }
    if let Some(unsafety) = &sig.unsafety {
        return Err(syn::Error::new(
            unsafety.span(),
            format!("#[{attribute}] handlers cannot be `unsafe`"),
        ));
    }
    if let Some(variadic) = &sig.variadic {
        return Err(syn::Error::new(
            variadic.span(),
            format!("#[{attribute}] handlers cannot be variadic"),
        ));
    }
    Ok(())
}
