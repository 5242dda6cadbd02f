//! Effects and resources through one boxed closure type.
//!
//! `Effect::new` and `LocalResource::new` compile their machinery (about
//! 1 KB and 3 KB of wasm) again for every closure and future type; the app
//! creates dozens. These helpers box the closure (and the future) at the
//! call site and hand the boxes to one non-generic function (one per
//! resource's value type), so that machinery is compiled once.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use leptos::prelude::*;

type BoxFuture<T> = Pin<Box<dyn Future<Output = T>>>;

/// `Effect::new(move |_| f())`: runs `f` now and whenever what it reads
/// changes, for as long as the current owner lives.
pub fn effect(f: impl FnMut() + 'static) {
    boxed_effect(Box::new(f));
}

fn boxed_effect(mut f: Box<dyn FnMut()>) {
    Effect::new(move |_: Option<()>| f());
}

/// `LocalResource::new(fetch)`: `fetch`'s future, run again whenever what
/// `fetch` reads changes.
pub fn resource<T: 'static, Fut: Future<Output = T> + 'static>(
    fetch: impl Fn() -> Fut + 'static,
) -> LocalResource<T> {
    boxed_resource(Rc::new(move || -> BoxFuture<T> { Box::pin(fetch()) }))
}

fn boxed_resource<T: 'static>(fetch: Rc<dyn Fn() -> BoxFuture<T>>) -> LocalResource<T> {
    LocalResource::new(move || fetch())
}
