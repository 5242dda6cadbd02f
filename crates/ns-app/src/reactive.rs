//! Effects and resources through one boxed closure type.
//!
//! `Effect::new` and `LocalResource::new` compile their machinery (about
//! 1 KB and 3 KB of wasm) again for every closure and future type; the app
//! creates dozens. These helpers box the closure (and the future) at the
//! call site and hand the boxes to one non-generic function (one per
//! resource's value type), so that machinery is compiled once.

use std::any::Any;
use std::future::Future;
use std::marker::PhantomData;
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
/// `fetch` reads changes. Its value is held type-erased, so Leptos' async
/// machinery is compiled once for all resources, not once per value type.
pub fn resource<T: 'static, Fut: Future<Output = T> + 'static>(
    fetch: impl Fn() -> Fut + 'static,
) -> Resource<T> {
    Resource {
        inner: boxed_resource(Rc::new(move || -> BoxFuture<Erased> {
            let fut = fetch();
            Box::pin(async move { Rc::new(fut.await) as Erased })
        })),
        value: PhantomData,
    }
}

type Erased = Rc<dyn Any>;

fn boxed_resource(fetch: Rc<dyn Fn() -> BoxFuture<Erased>>) -> LocalResource<Erased> {
    LocalResource::new(move || fetch())
}

/// A [`resource`]: its latest value, `None` until the first one.
pub struct Resource<T> {
    inner: LocalResource<Erased>,
    value: PhantomData<fn() -> T>,
}

impl<T> Clone for Resource<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T> Copy for Resource<T> {}

impl<T: Clone + 'static> Resource<T> {
    /// The latest value (tracked: a reactive context reruns when it changes).
    pub fn get(&self) -> Option<T> {
        self.inner
            .get()
            .and_then(|v| v.downcast_ref::<T>().cloned())
    }
}
