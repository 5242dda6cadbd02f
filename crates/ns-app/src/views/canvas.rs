//! A canvas on the shared time axis: sized to its container, redrawn when
//! the window, the cursor or anything its draw function reads changes,
//! with the interactions every time view has (drag to pan, shift-drag to
//! select a range, wheel to zoom around the pointer, click to set the
//! current time, ←/→ and =/- keys). Draw times are recorded for the
//! browser tests (`window.neurosiftFrameTimes()`).

use std::cell::RefCell;
use std::rc::Rc;

use leptos::html::Canvas;
use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{CanvasRenderingContext2d, HtmlCanvasElement};

use super::time::TimeContext;

/// Left margin for labels; the plot spans from here to the right edge.
pub const LEFT: f64 = ns_figures::PLOT_LEFT_PX;
/// Right margin.
pub const RIGHT: f64 = 12.0;
/// Height of the time axis at the bottom.
pub const AXIS: f64 = 22.0;

/// What a draw function gets.
pub struct Frame {
    pub ctx: CanvasRenderingContext2d,
    pub width: f64,
    pub height: f64,
    pub window: (f64, f64),
    pub current: Option<f64>,
}

impl Frame {
    pub fn plot_width(&self) -> f64 {
        (self.width - LEFT - RIGHT).max(1.0)
    }

    /// Times to x pixels.
    pub fn xmap(&self) -> ns_draw::XMap {
        ns_draw::XMap {
            left: LEFT,
            start: self.window.0,
            end: self.window.1,
            width: self.plot_width(),
        }
    }

    /// The x pixel of time `t`.
    pub fn x_of(&self, t: f64) -> f64 {
        self.xmap().x_of(t)
    }

    /// Clears the canvas and draws the time axis and the cursor line.
    pub fn clear(&self) {
        self.ctx.set_fill_style_str("#fff");
        self.ctx.fill_rect(0.0, 0.0, self.width, self.height);
    }

    /// The time axis along the bottom, and the current-time cursor.
    pub fn axis_and_cursor(&self) {
        let ctx = &self.ctx;
        let y = self.height - AXIS;
        ctx.set_stroke_style_str("#888");
        ctx.set_line_width(1.0);
        ctx.begin_path();
        ctx.move_to(LEFT, y + 0.5);
        ctx.line_to(self.width - RIGHT, y + 0.5);
        ctx.stroke();
        ctx.set_fill_style_str("#333");
        ctx.set_font("11px sans-serif");
        ctx.set_text_align("center");
        let (a, b) = self.window;
        let step = tick_step((b - a) / (self.plot_width() / 90.0).max(1.0));
        let decimals = decimals_for(step);
        let mut t = (a / step).ceil() * step;
        let mut n = 0;
        while t <= b && n < 200 {
            let x = self.x_of(t).round() + 0.5;
            ctx.begin_path();
            ctx.move_to(x, y);
            ctx.line_to(x, y + 4.0);
            ctx.stroke();
            let _ = ctx.fill_text(&format!("{t:.decimals$}"), x, y + 15.0);
            t += step;
            n += 1;
        }
        ctx.set_text_align("right");
        let _ = ctx.fill_text("s", self.width - 1.0, y + 15.0);
        if let Some(c) = self.current
            && c >= a
            && c <= b
        {
            let x = self.x_of(c).round() + 0.5;
            ctx.set_stroke_style_str("#d33");
            ctx.begin_path();
            ctx.move_to(x, 0.0);
            ctx.line_to(x, y);
            ctx.stroke();
        }
    }
}

/// A "nice" step (1, 2 or 5 × 10^k) at least `raw`.
pub fn tick_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * p)
}

/// Decimals to print multiples of `step`.
pub fn decimals_for(step: f64) -> usize {
    if step >= 1.0 {
        0
    } else {
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "a small positive count"
        )]
        let d = (-step.log10()).ceil().clamp(0.0, 9.0) as usize;
        d
    }
}

/// The canvas's 2D context.
pub fn context_2d(canvas: &HtmlCanvasElement) -> Option<CanvasRenderingContext2d> {
    canvas
        .get_context("2d")
        .ok()
        .flatten()
        .and_then(|c| c.dyn_into::<CanvasRenderingContext2d>().ok())
}

thread_local! {
    static FRAME_TIMES: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
}

fn now() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

/// Exposes `window.neurosiftFrameTimes()`: the draw times (ms) recorded
/// since the last call.
pub fn expose_frame_times() {
    let f = Closure::<dyn Fn() -> js_sys::Array>::new(|| {
        FRAME_TIMES.with(|t| {
            t.borrow_mut()
                .drain(..)
                .map(JsValue::from_f64)
                .collect::<js_sys::Array>()
        })
    });
    if let Some(w) = web_sys::window() {
        let _ = js_sys::Reflect::set(&w, &"neurosiftFrameTimes".into(), f.as_ref());
    }
    f.forget();
}

/// Where a drag started.
#[derive(Clone, Copy)]
struct Drag {
    x: f64,
    window: (f64, f64),
    select: bool,
    moved: bool,
}

#[component]
pub fn TimeCanvas(
    time: TimeContext,
    /// CSS pixels.
    height: Signal<f64>,
    /// Draws one frame; signals it reads make it redraw.
    draw: Rc<dyn Fn(&Frame)>,
    /// The canvas width in CSS pixels, set here as the container resizes.
    width: RwSignal<f64>,
    #[prop(into, optional)] test_id: String,
) -> impl IntoView {
    let canvas = NodeRef::<Canvas>::new();
    let drag = StoredValue::new(None::<Drag>);
    let selection = RwSignal::new(None::<(f64, f64)>);
    let measure = move || {
        if let Some(c) = canvas.get_untracked() {
            let w = c
                .parent_element()
                .map_or(800.0, |p| f64::from(p.client_width()));
            if (w - width.get_untracked()).abs() > 0.5 {
                width.set(w.max(200.0));
            }
        }
    };
    crate::reactive::effect(move || {
        if canvas.get().is_some() {
            measure();
        }
    });
    let resize = window_event_listener(leptos::ev::resize, move |_| measure());
    on_cleanup(move || resize.remove());
    crate::reactive::effect(move || {
        let (Some(c), Some(window)) = (canvas.get(), time.window.get()) else {
            return;
        };
        let (w, h) = (width.get(), height.get());
        if w <= 0.0 {
            return;
        }
        let el: &HtmlCanvasElement = &c;
        #[expect(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "canvas sizes are small positive numbers"
        )]
        let (pw, ph) = (w as u32, h as u32);
        if el.width() != pw {
            el.set_width(pw);
        }
        if el.height() != ph {
            el.set_height(ph);
        }
        let Some(ctx) = context_2d(el) else {
            return;
        };
        let started = now();
        let frame = Frame {
            ctx,
            width: w,
            height: h,
            window,
            current: time.current.get(),
        };
        draw(&frame);
        if let Some((a, b)) = selection.get() {
            let (xa, xb) = (frame.x_of(a), frame.x_of(b));
            frame.ctx.set_fill_style_str("rgba(60, 120, 220, 0.2)");
            frame
                .ctx
                .fill_rect(xa.min(xb), 0.0, (xb - xa).abs(), h - AXIS);
        }
        let took = now() - started;
        FRAME_TIMES.with(|t| {
            let mut t = t.borrow_mut();
            if t.len() < 10_000 {
                t.push(took);
            }
        });
    });
    // Time at a pointer's x.
    let time_at = move |x: f64| -> Option<f64> {
        let (a, b) = time.window.get_untracked()?;
        let plot = (width.get_untracked() - LEFT - RIGHT).max(1.0);
        Some(a + (x - LEFT) / plot * (b - a))
    };
    let on_down = move |ev: web_sys::PointerEvent| {
        let Some(window) = time.window.get_untracked() else {
            return;
        };
        if let Some(c) = canvas.get_untracked() {
            let _ = c.set_pointer_capture(ev.pointer_id());
            let _ = c.focus();
        }
        drag.set_value(Some(Drag {
            x: f64::from(ev.offset_x()),
            window,
            select: ev.shift_key(),
            moved: false,
        }));
    };
    let on_move = move |ev: web_sys::PointerEvent| {
        let Some(mut d) = drag.get_value() else {
            return;
        };
        let x = f64::from(ev.offset_x());
        if (x - d.x).abs() < 3.0 && !d.moved {
            return;
        }
        d.moved = true;
        drag.set_value(Some(d));
        if d.select {
            if let (Some(a), Some(b)) = (time_at(d.x), time_at(x)) {
                selection.set(Some((a, b)));
            }
        } else {
            let plot = (width.get_untracked() - LEFT - RIGHT).max(1.0);
            let (a, b) = d.window;
            let dt = (x - d.x) / plot * (b - a);
            time.set_window(a - dt, b - dt);
        }
    };
    let on_up = move |ev: web_sys::PointerEvent| {
        let Some(d) = drag.get_value() else {
            return;
        };
        drag.set_value(None);
        if d.moved {
            if let Some((a, b)) = selection.get_untracked() {
                selection.set(None);
                if (b - a).abs() > 0.0 {
                    time.set_window(a, b);
                }
            }
        } else if let Some(t) = time_at(f64::from(ev.offset_x())) {
            time.current.set(Some(t));
        }
    };
    let on_wheel = move |ev: web_sys::WheelEvent| {
        ev.prevent_default();
        let factor = 1.0015f64.powf(ev.delta_y().clamp(-500.0, 500.0));
        time.zoom(factor, time_at(f64::from(ev.offset_x())));
    };
    let on_key = move |ev: web_sys::KeyboardEvent| {
        let handled = match ev.key().as_str() {
            "ArrowLeft" => {
                time.pan(-0.2);
                true
            }
            "ArrowRight" => {
                time.pan(0.2);
                true
            }
            "=" | "+" => {
                time.zoom(0.5, None);
                true
            }
            "-" | "_" => {
                time.zoom(2.0, None);
                true
            }
            _ => false,
        };
        if handled {
            ev.prevent_default();
        }
    };
    view! {
        <div class="time-canvas">
            <canvas
                node_ref=canvas
                tabindex="0"
                data-testid=test_id
                style=move || format!("height: {}px", height.get())
                on:pointerdown=on_down
                on:pointermove=on_move
                on:pointerup=on_up
                on:wheel=on_wheel
                on:keydown=on_key
            ></canvas>
        </div>
    }
}

/// The zoom and pan buttons of a time view.
#[component]
pub fn TimeControls(time: TimeContext) -> impl IntoView {
    view! {
        <span class="time-controls">
            <button title="Pan left (←)" on:click=move |_| time.pan(-0.5)>"◀"</button>
            <button title="Zoom in (=)" on:click=move |_| time.zoom(0.5, None)>"+"</button>
            <button title="Zoom out (-)" on:click=move |_| time.zoom(2.0, None)>"−"</button>
            <button title="Pan right (→)" on:click=move |_| time.pan(0.5)>"▶"</button>
            <button title="Whole recording" data-testid="show-all" on:click=move |_| time.show_all()>"all"</button>
            <span class="window-text" data-testid="window-text">{move || time.window.get().map(|(a, b)| {
                let step = tick_step((b - a) / 10.0);
                let d = decimals_for(step) + 1;
                format!("{a:.d$} – {b:.d$} s")
            })}</span>
        </span>
    }
}
