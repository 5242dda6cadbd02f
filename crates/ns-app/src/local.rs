//! The local file the user picked or dropped, kept on the main thread until
//! the viewer page hands it to the worker (it is never read here).

use std::cell::RefCell;

use web_sys::File;

thread_local! {
    static PICKED: RefCell<Option<File>> = const { RefCell::new(None) };
}

pub fn set(file: File) {
    PICKED.with(|p| *p.borrow_mut() = Some(file));
}

pub fn get() -> Option<File> {
    PICKED.with(|p| p.borrow().clone())
}
