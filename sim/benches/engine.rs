//! `cargo bench -p sim`: the engine's events per second next to a plain binary-heap event
//! loop doing the same work, measured in the same run (see `sim::bench`).

fn main() {
    // Enough events for a stable rate, few enough to finish in seconds: 1 million events per
    // run, best of 11 for each side, the sides alternating (the machine is shared and noisy;
    // the best run is the one least disturbed).
    let events = 1_000_000;
    let repeats = 11;
    let r = sim::bench::compare(events, 1, repeats);
    println!(
        "engine:   {:>12.0} events/s  ({} events, best of {repeats}: {:.3} s)",
        r.engine_events_per_sec, r.engine_events, r.engine_secs
    );
    println!(
        "baseline: {:>12.0} events/s  ({} events, best of {repeats}: {:.3} s)",
        r.baseline_events_per_sec, r.baseline_events, r.baseline_secs
    );
    println!(
        "ratio:    {:>12.3}  (engine / baseline; target >= 0.5)",
        r.ratio
    );
    println!("delivered messages per run: {}", r.delivered);
}
