//! # reports — charts of faultline runs and sweeps
//!
//! A chart is plain data ([`Chart`]: a title, labelled axes, lines with optional bands and
//! markers); [`render`] draws it with plotters as both PNG and SVG. [`stats`] turns per-seed
//! series into what the charts show (mean and band per x, empirical CDFs).
//!
//! Text never depends on the machine's fonts: DejaVu Sans (from the `dejavu` crate, freely
//! licensed) is embedded and registered as "sans-serif" before the first chart, so a CI
//! machine with no fonts at all draws the same labels as a desktop.

pub mod chart;
pub mod stats;

pub use chart::{Axis, Chart, Corner, PlotError, Series, render};

use std::sync::Once;

/// The font family every chart uses: the PNG draws with the embedded DejaVu Sans registered
/// under this name, and the SVG names the same family (with `sans-serif` as the fallback of a
/// viewer without it), so both show the same letters where DejaVu Sans is installed.
pub const FONT: &str = "DejaVu Sans, sans-serif";

/// Registers the embedded DejaVu Sans as [`FONT`] (once per process).
pub fn ensure_fonts() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        use plotters::style::FontStyle;
        // The bytes are a valid TTF shipped by the `dejavu` crate, so registration only fails
        // if that crate is broken; a chart would then fail with a clear error of its own.
        let _ = plotters::style::register_font(FONT, FontStyle::Normal, dejavu::sans::regular());
        let _ = plotters::style::register_font(FONT, FontStyle::Bold, dejavu::sans::bold());
    });
}
