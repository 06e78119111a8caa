//! A single-threaded executor for guests: futures wait on `wasi:io` pollables, and the
//! executor blocks in `wasi:io/poll.poll` until at least one of them is ready.
//!
//! Nested [`block_on`] calls are allowed (a sync handler may block on an async helper inside an
//! async handler): every call polls the same set of registrations, and a wake that belongs to an
//! outer future only marks it for polling once the inner call returns.

use std::cell::RefCell;
use std::future::Future;
use std::pin::{pin, Pin};
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use crate::bindings::platform::wasi::io::poll::{self, Pollable};

thread_local! {
    static WAITING: RefCell<Vec<(Rc<Pollable>, Waker)>> = const { RefCell::new(Vec::new()) };
}

struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Runs `future` to completion on the current thread and returns its output.
///
/// While the future is pending, the guest blocks in the host until one of the pollables it
/// waits on is ready.
///
/// # Panics
///
/// Panics when the future is pending without waiting on any pollable: nothing could ever wake
/// it, so waiting would hang the request until its deadline.
///
/// ```no_run
/// let answer = rotor_sdk::executor::block_on(async { 40 + 2 });
/// assert_eq!(answer, 42);
/// ```
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let flag = Arc::new(Flag(AtomicBool::new(true)));
    let waker = Waker::from(flag.clone());
    let mut cx = Context::from_waker(&waker);
    loop {
        if flag.0.swap(false, Ordering::SeqCst) {
            if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                return output;
            }
            continue;
        }
        if !wait_for_any() {
            panic!("rotor_sdk::executor: a future is pending but waits on no pollable");
        }
    }
}

/// Blocks until at least one registered pollable is ready and wakes its waiters.
/// Returns `false` when nothing is registered.
fn wait_for_any() -> bool {
    let waiting = WAITING.with(|w| std::mem::take(&mut *w.borrow_mut()));
    if waiting.is_empty() {
        return false;
    }
    let pollables: Vec<&Pollable> = waiting.iter().map(|(p, _)| p.as_ref()).collect();
    let ready = poll::poll(&pollables);
    let mut still_waiting = Vec::with_capacity(waiting.len());
    for (index, (pollable, waker)) in waiting.into_iter().enumerate() {
        if ready.contains(&(index as u32)) {
            waker.wake();
        } else {
            still_waiting.push((pollable, waker));
        }
    }
    WAITING.with(|w| w.borrow_mut().extend(still_waiting));
    true
}

/// A future that completes when `pollable` is ready.
///
/// Dropping it forgets the registration, so the pollable can be dropped before the stream or
/// body it came from, as the component model requires.
///
/// ```no_run
/// # fn stream() -> rotor_sdk::wasi::io::streams::InputStream { unimplemented!() }
/// # rotor_sdk::executor::block_on(async {
/// let input = stream();
/// rotor_sdk::executor::wait_for(input.subscribe()).await;
/// # });
/// ```
pub fn wait_for(pollable: Pollable) -> WaitFor {
    WaitFor {
        pollable: Rc::new(pollable),
    }
}

/// The future returned by [`wait_for`].
pub struct WaitFor {
    pollable: Rc<Pollable>,
}

impl WaitFor {
    fn forget(&self) {
        WAITING.with(|w| {
            w.borrow_mut()
                .retain(|(p, _)| !Rc::ptr_eq(p, &self.pollable))
        });
    }
}

impl Future for WaitFor {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        self.forget();
        if self.pollable.ready() {
            return Poll::Ready(());
        }
        WAITING.with(|w| {
            w.borrow_mut()
                .push((self.pollable.clone(), cx.waker().clone()))
        });
        Poll::Pending
    }
}

impl Drop for WaitFor {
    fn drop(&mut self) {
        self.forget();
    }
}
