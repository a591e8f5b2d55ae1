//! stub
use serde::Serialize;
#[derive(Serialize)]
pub struct Results {}
pub fn run_all(_secs: u64, _gossip: &[usize]) -> Results {
    Results {}
}
pub fn table(_: &Results) -> String {
    String::new()
}
